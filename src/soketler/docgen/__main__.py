"""`python -m soketler.docgen [ROOT]`: writes share/ (man page, completions) under ROOT."""

from __future__ import annotations

import sys
from pathlib import Path

from soketler.docgen.files import write_all

if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    for path in write_all(root):
        print(path)
