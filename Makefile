# gradclip — two commands take a fresh machine to work:
#   make lab    venv + gradclip[tutorials] + JupyterLab on nbs/, opening on the first tutorial
#   make test   venv + gradclip[dev] + every test (export sync, clean notebooks, notebooks, pytest)
# Others: make docs · make preview · make bench · make outputs · make clean
# Without make (Windows): see README.md, "Without make".

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
IP     ?= 127.0.0.1
PORT   ?= 8888
# what `install` installs: the whole [dev] extra, except for `make lab`, which needs only the learner's [tutorials]
EXTRA  ?= dev
lab: EXTRA = tutorials
# the install is redone only when pyproject.toml's *content* (or the extra) changes: nbdev-export rewrites that file
# on every export, so its modification time says nothing
STAMP  := $(VENV)/.installed
HASH    = $(BIN)/python -c "import hashlib, pathlib, sys; print(hashlib.sha1(b''.join(p.read_bytes() for p in sorted(pathlib.Path().glob(sys.argv[1])))).hexdigest())"
# what each extra brings, for the progress line
WHAT_tutorials = PyTorch, fastai, matplotlib, ipywidgets, scikit-learn and JupyterLab
WHAT_dev       = the tutorials' set (PyTorch, fastai, JupyterLab, ...) plus nbdev, pytest, playwright and the reference libraries
# requires-python (">=3.10") as a check any Python can run: exits 1 when the running Python is older
MIN_PY := $(shell sed -n 's/^requires-python *= *">=\([0-9.]*\)".*/\1/p' pyproject.toml)
PY_OK   = -c "import sys; sys.exit(sys.version_info[:2] < tuple(map(int, '$(MIN_PY)'.split('.'))))"

.PHONY: lab test install export-check clean-check nbtest pytest chromium docs preview bench outputs clean

# A venv whose Python is too old (or gone) is rebuilt; pip's own output shows what is downloaded and how big.
install:
	@if [ -f $(VENV)/pyvenv.cfg ] && ! $(BIN)/python $(PY_OK) 2>/dev/null; then \
		v=$$($(BIN)/python -V 2>/dev/null) || v='no working Python'; \
		echo "install: $(VENV) has $$v, but gradclip needs Python >= $(MIN_PY): recreating it"; \
		rm -rf $(VENV); fi
	@if [ ! -x $(BIN)/python ]; then \
		$(PYTHON) $(PY_OK) 2>/dev/null || { v=$$($(PYTHON) -V 2>/dev/null) || v='not a working Python'; \
			echo "FAIL: PYTHON=$(PYTHON) is $$v; gradclip needs Python >= $(MIN_PY). Re-run with PYTHON= naming one (e.g. PYTHON=python3.12)."; exit 1; }; \
		echo "install: 1/3 creating $(VENV) with $$($(PYTHON) -V)"; $(PYTHON) -m venv $(VENV); fi
	@set -e; want=$$($(HASH) pyproject.toml); have=$$(cat $(STAMP) 2>/dev/null || true); \
	if [ "$$have" = "$$want $(EXTRA)" ] || [ "$$have" = "$$want dev" ]; then \
		echo "install: up to date (gradclip[$${have#* }], pyproject.toml unchanged)"; exit 0; fi; \
	echo "install: 2/3 upgrading pip"; $(BIN)/python -m pip install --quiet --upgrade pip; \
	t=$$($(BIN)/python -c "import importlib.metadata as m; print(m.version('torch'))" 2>/dev/null || true); \
	if [ -n "$$t" ]; then size="PyTorch $$t is already installed, so this downloads about 0.3 GB."; \
	elif [ "$$(uname)" = Linux ]; then size="This downloads about 3 GB and takes 6 GB of disk: PyPI's Linux PyTorch brings CUDA. No GPU? README, 'CPU-only PyTorch': 0.5 GB, 1.5 GB."; \
	else size="This downloads about 0.5 GB and takes 1.5 GB of disk."; fi; \
	echo "install: 3/3 installing gradclip[$(EXTRA)] into $(VENV): $(WHAT_$(EXTRA))."; \
	echo "         $$size pip lists each package as it goes."; \
	$(BIN)/python -m pip install --progress-bar on -e '.[$(EXTRA)]'; \
	echo "$$want $(EXTRA)" > $(STAMP); \
	echo "install: done, $$(du -sh $(VENV) 2>/dev/null | cut -f1) in $(VENV)"

# JupyterLab on nbs/, opening on the first tutorial: loopback and token auth by default; IP=0.0.0.0 is an explicit
# opt-in. tools/lab_config.py serves notebooks so that opening one does not mark it modified (see the file for why it
# would). No browser is opened when there is no display to open it on (or under CI); the URL (with its token) is printed.
lab: install
	@if [ -n "$$CI" ] || { [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$(uname)" != Darwin ]; }; then nb=--no-browser; fi; \
	if [ "$$(id -u)" = 0 ]; then root=--allow-root; fi; \
	echo "Starting JupyterLab on http://$(IP):$(PORT), opening tutorials/01_exploding.ipynb: open the URL printed below (it carries the token)."; \
	exec $(BIN)/jupyter lab --config=tools/lab_config.py --notebook-dir=nbs --ip=$(IP) --port=$(PORT) --LabApp.default_url=/lab/tree/tutorials/01_exploding.ipynb $$nb $$root

test: install chromium export-check clean-check nbtest pytest

# nbdev-export must leave the library exactly as committed: notebooks are the source of truth
export-check: install
	@before=$$($(HASH) 'gradclip/**/*.py'); \
	$(BIN)/nbdev-export; \
	after=$$($(HASH) 'gradclip/**/*.py'); \
	if [ "$$before" != "$$after" ] || [ -n "$$(git status --porcelain -- gradclip)" ]; then \
		git status --short -- gradclip; git --no-pager diff --stat -- gradclip; \
		echo "FAIL: gradclip/ is out of sync with nbs/ — run nbdev-export and commit the result."; exit 1; \
	else echo "export-check: gradclip/ is in sync with nbs/"; fi

# Notebooks are committed cleaned (nbdev-clean; the pre-commit hook does it): clean a copy and compare, so the working
# tree is never changed here
clean-check: install
	@tmp=$$(mktemp -d); cp -R nbs "$$tmp/"; \
	$(BIN)/nbdev-clean --fname "$$tmp/nbs" && \
	bad=$$(cd nbs && find . -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | while read -r f; do cmp -s "$$f" "$$tmp/nbs/$$f" || echo " nbs/$${f#./}"; done); \
	rm -rf "$$tmp"; \
	if [ -n "$$bad" ]; then echo "FAIL: not clean:$$bad"; echo "      run $(BIN)/nbdev-clean (or install the hook: pre-commit install) and commit the result."; exit 1; \
	else echo "clean-check: every notebook is clean"; fi

nbtest: install
	$(BIN)/nbdev-test --timing

# pytest runs last so that its summary is the closing line
pytest: install chromium
	$(BIN)/python -m pytest

# The browser test drives a system Chromium (or Chrome, macOS's included). Where it is missing: with CI set (CI=true, as GitHub Actions and
# .ci/run set it) install Debian's chromium package with apt-get; otherwise say so, and the test skips itself.
BROWSERS = chromium chromium-browser google-chrome
chromium:
	@for b in $(BROWSERS); do command -v $$b >/dev/null 2>&1 && exit 0; done; \
	[ -x "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" ] && exit 0; \
	if [ -z "$$CI" ]; then \
		echo "chromium: no Chromium found (looked for: $(BROWSERS)), so tests/test_browser.py will be skipped."; \
		echo "          Install one to run it (Debian/Ubuntu: apt-get install chromium); CI=true makes this step install it."; exit 0; fi; \
	command -v apt-get >/dev/null 2>&1 || { echo "FAIL: CI is set, no Chromium is installed and there is no apt-get to install it with"; exit 1; }; \
	echo "chromium: not found; CI is set, so installing Debian's chromium package for the browser test"; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null ) \
	|| { echo "FAIL: could not install chromium with apt-get; install it (apt-get install chromium) and re-run"; exit 1; }; \
	command -v chromium >/dev/null 2>&1 || { echo "FAIL: chromium is still missing"; exit 1; }

QUARTO_HELP = "Quarto is not installed, so the site cannot be rendered here. Install it from https://quarto.org/docs/get-started/ (or run '$(BIN)/nbdev-install-quarto' on Linux/macOS with network access), then re-run. Everything before rendering is checked by 'make test'."

docs: install
	@command -v quarto >/dev/null 2>&1 || { echo $(QUARTO_HELP); exit 1; }
	$(BIN)/nbdev-docs

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
	rm -rf _proc _docs build dist .pytest_cache
