"""Shell completion scripts and the man page, generated from the argparse definitions.

`soketler completion bash|zsh|fish` prints a script; `python -m soketler.docgen`
(`make share`) writes the files under `share/` that the wheel installs: the man page
and the three completion scripts. Nothing here is imported by `soketler --help`.
"""
