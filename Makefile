# The two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# System programs the tests drive (and the benchmarks' peers). Installed with apt-get
# where it is usable; elsewhere the tests that need them skip (or fail when CI=true).
# chromium: the browser tests (Playwright drives it; its own browser download is not used).
APT_PACKAGES := telnet netcat-openbsd socat ncat tmux redis-server redis-tools openssl irssi ngircd \
	chromium zsh fish man-db groff-base openssh-client
SERVE_ARGS ?=

.PHONY: serve venv example share test lint check pytest system-deps bench bench-quick bench-plots \
	irctest irctest-ngircd screenshots clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

serve: $(BIN)/.installed
	$(BIN)/soketler serve $(SERVE_ARGS)

# .venv with soketler installed: then `.venv/bin/python examples/time_bot.py` runs.
venv: $(BIN)/.installed

# Runs one of examples/ with the venv's Python: make example NAME=time_bot ARGS="--join '#dev'"
NAME ?=
ARGS ?=
example: $(BIN)/.installed
	@test -n "$(NAME)" || { echo 'usage: make example NAME=time_bot [ARGS="..."]'; \
	  ls examples | sed -n 's/\.py$$//p' | tr '\n' ' '; echo; exit 2; }
	$(BIN)/python examples/$(NAME:.py=).py $(ARGS)

# The man page and shell completions the wheel installs, from the argparse definitions.
share: $(BIN)/.installed
	$(BIN)/python -m soketler.docgen .

# Installs what is missing of APT_PACKAGES; needs root (or password-less sudo).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "note: apt-get not found; tests needing$$missing will skip"; exit 0; fi; \
	SUDO=""; if [ "$$(id -u)" != 0 ]; then \
	  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	    echo "note: not root; tests needing$$missing will skip"; exit 0; fi; fi; \
	echo "installing$$missing"; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null

LINT_DIRS = $(wildcard src tests examples benchmarks)

lint: $(BIN)/.installed-test
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)
	$(BIN)/mypy

pytest: $(BIN)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

test: system-deps lint pytest

bench: $(BIN)/.installed-test system-deps
	$(BIN)/python -m benchmarks

bench-quick: $(BIN)/.installed-test system-deps
	$(BIN)/python -m benchmarks --quick

# Redraws the README's SVG figures from benchmarks/results/latest-full.json.
bench-plots: $(BIN)/.installed
	$(BIN)/python -m benchmarks.plots

# The public IRC conformance suite (github.com/progval/irctest), which is not part of
# this repository: clone it anywhere and pass its path. It stays out of `make test`.
IRCTEST ?=
IRCTEST_MARKERS := not services and not implementation-specific and not deprecated and not strict
IRCTEST_ARGS ?=

irctest: $(BIN)/.installed-test
	@$(MAKE) --no-print-directory _irctest IRCTEST_CONTROLLER=tests.irctest.soketler_controller

irctest-ngircd: $(BIN)/.installed-test system-deps
	@$(MAKE) --no-print-directory _irctest IRCTEST_CONTROLLER=tests.irctest.ngircd_loopback

_irctest:
	@test -n "$(IRCTEST)" -a -f "$(IRCTEST)/conftest.py" || { \
	  echo "usage: make $(if $(findstring ngircd,$(IRCTEST_CONTROLLER)),irctest-ngircd,irctest) IRCTEST=path/to/irctest (a clone of github.com/progval/irctest)"; exit 2; }
	$(BIN)/python -m pip install -q -r $(IRCTEST)/requirements.txt
	cd $(IRCTEST) && PYTHONPATH=$(CURDIR) $(CURDIR)/$(BIN)/python -m pytest -p no:cacheprovider -p no:asyncio -p tests.irctest.reaper \
	  --controller $(IRCTEST_CONTROLLER) -m "$(IRCTEST_MARKERS)" \
	  $$($(CURDIR)/$(BIN)/python -c 'import xdist' 2>/dev/null && printf '%s' '-n 4') $(IRCTEST_ARGS)

# Pictures of the browser page for docs/ (a real server and chromium on loopback).
screenshots: $(BIN)/.installed-test system-deps
	$(BIN)/python -m tests.web.screenshot docs

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
