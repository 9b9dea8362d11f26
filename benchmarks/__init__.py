"""Benchmarks for soketler against ncat, socat and nc, measured in the same sitting.

Run with `python -m benchmarks` (or `make bench`); `--quick` for a short pass and
`--only NAME[,NAME]` for single scenarios. `benchmarks/README.md` explains the method.
"""
