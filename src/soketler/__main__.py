from soketler.cli import main

raise SystemExit(main())
