# gradclip — two commands take a fresh machine to work:
#   make lab    venv + install + JupyterLab on nbs/
#   make test   venv + install + every test (export sync, notebooks, pytest)
# Others: make docs · make preview · make bench · make outputs · make clean

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
IP     ?= 127.0.0.1
PORT   ?= 8888
# the install is redone only when pyproject.toml's *content* changes: nbdev-export rewrites that file on every
# export, so its modification time says nothing
STAMP  := $(VENV)/.installed
HASH    = $(BIN)/python -c "import hashlib, pathlib, sys; print(hashlib.sha1(b''.join(p.read_bytes() for p in sorted(pathlib.Path().glob(sys.argv[1])))).hexdigest())"

.PHONY: lab test install export-check nbtest pytest chromium docs preview bench outputs clean

install:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@want=$$($(HASH) pyproject.toml); \
	if [ "$$(cat $(STAMP) 2>/dev/null)" = "$$want" ]; then echo "install: up to date (pyproject.toml unchanged)"; \
	else $(BIN)/python -m pip install --quiet --upgrade pip && \
	     $(BIN)/python -m pip install --quiet -e '.[dev]' && echo "$$want" > $(STAMP); fi

# JupyterLab on nbs/: loopback and token auth by default; IP=0.0.0.0 is an explicit opt-in. tools/lab_config.py
# serves notebooks so that opening one does not mark it modified (see the file for why it would).
# No browser is opened when there is no display to open it on; the URL (with its token) is printed.
lab: install
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$(uname)" != Darwin ]; then nb=--no-browser; fi; \
	if [ "$$(id -u)" = 0 ]; then root=--allow-root; fi; \
	echo "Starting JupyterLab on http://$(IP):$(PORT)/lab — open the URL printed below (it carries the token)."; \
	$(BIN)/jupyter lab --config=tools/lab_config.py --notebook-dir=nbs --ip=$(IP) --port=$(PORT) $$nb $$root

test: install chromium export-check nbtest pytest

# nbdev-export must leave the library exactly as committed: notebooks are the source of truth
export-check: install
	@before=$$($(HASH) 'gradclip/**/*.py'); \
	$(BIN)/nbdev-export; \
	after=$$($(HASH) 'gradclip/**/*.py'); \
	if [ "$$before" != "$$after" ] || [ -n "$$(git status --porcelain -- gradclip)" ]; then \
		git status --short -- gradclip; git --no-pager diff --stat -- gradclip; \
		echo "FAIL: gradclip/ is out of sync with nbs/ — run nbdev-export and commit the result."; exit 1; \
	else echo "export-check: gradclip/ is in sync with nbs/"; fi

nbtest: install
	$(BIN)/nbdev-test --timing

# pytest runs last so that its summary is the closing line
pytest: install chromium
	$(BIN)/python -m pytest

# The browser test drives Debian's Chromium; CI runs as root on Debian, so install it when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Chromium not found: installing Debian's chromium package for the browser test"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null ) \
		|| { echo "FAIL: could not install chromium with apt-get; install it (apt-get install chromium) and re-run"; exit 1; }; }
	@command -v chromium >/dev/null 2>&1 || { echo "FAIL: chromium is still missing"; exit 1; }

QUARTO_HELP = "Quarto is not installed, so the site cannot be rendered here. Install it from https://quarto.org/docs/get-started/ (or run '$(BIN)/nbdev-install-quarto' on Linux/macOS with network access), then re-run. Everything before rendering is checked by 'make test'."

docs: install
	@command -v quarto >/dev/null 2>&1 || { echo $(QUARTO_HELP); exit 1; }
	$(BIN)/nbdev-docs
	$(BIN)/nbdev-readme

preview: install
	@command -v quarto >/dev/null 2>&1 || { echo $(QUARTO_HELP); exit 1; }
	$(BIN)/nbdev-preview --host $(IP)

bench: install
	$(BIN)/python bench/bench_clip.py
	$(BIN)/python bench/bench_demos.py

# Re-execute the notebooks and save their outputs the way GitHub and the docs site need them
outputs: install
	$(BIN)/python tools/run_notebooks.py

clean:
	rm -rf _proc _docs build .pytest_cache
