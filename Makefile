# Two commands: `make book` builds the Jupyter Book, `make test` runs every check.
# Both create .venv when it is missing and install the pinned requirements into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Long computations of the chapters are memoised here within one build (src/forwardgrad/cache.py):
# `make book` computes them, the nbval run of `make test` reads them back. `make book` starts clean.
export FORWARDGRAD_CACHE := $(CURDIR)/book/_build/cache
HTML := book/_build/html
CHROMIUM := /usr/bin/chromium
# MathJax 3 for offline typesetting (book/_config.yml loads it as a Sphinx extension).
BOOK_EXTRAS := sphinx-mathjax-offline==0.0.2

.PHONY: setup test unit nbval browser book reference portability data clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet $(BOOK_EXTRAS)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q

# The three checks, in this order: unit tests, every chapter against its reference notebook,
# every page of the built book in a browser (which builds the book first if it is missing).
test: unit
	@$(MAKE) --no-print-directory nbval
	@$(MAKE) --no-print-directory browser

# Re-execute every chapter (book/*.md) and compare its outputs with tests/notebooks/<chapter>.ipynb.
nbval: $(STAMP)
	$(BIN)/python -m pytest --nbval tests/notebooks -q

# Build from scratch: the execution cache in book/_build cannot see changes in src/, so it goes too.
# tools/execute_chapters.py executes the chapters two at a time into the build's execution cache
# (the build alone runs them one after the other, on one of the two cores); the build renders
# them from there, and executes any chapter the script could not.
# -W turns warnings (broken references, missing glue keys, failing cells) into errors, -n reports
# every missing reference, --keep-going lists all of them before failing.
book: $(STAMP)
	rm -rf book/_build
	$(BIN)/python tools/execute_chapters.py --jobs 2
	$(BIN)/jupyter-book build book -W -n --keep-going
	@echo "The book is at $(HTML)/index.html"

# Regenerate the reference notebooks after an intended change of a chapter's outputs:
# every chapter, or only some with `make reference CHAPTERS="functions linear"`.
reference: $(STAMP)
	$(BIN)/python tools/reference_notebooks.py --jobs 2 $(CHAPTERS)

# The audit chapter's sweeps too long for a build (book/data/, read back and spot-checked by the
# chapter): the text's selection of 78 functions and two tangent laws, with the paper protocol.
# About half an hour on two cores; rerun it after a change that moves any run.
DATA := book/data
data: $(STAMP)
	rm -rf $(DATA)/audit-*.csv $(DATA)/audit-*.json $(DATA)/audit-*.csv.parts
	$(BIN)/forwardgrad bench --protocol paper --functions text --jobs 2 --out $(DATA)/audit-text.csv
	$(BIN)/forwardgrad bench --protocol paper --tangent sphere --gradients forward --jobs 2 --out $(DATA)/audit-tangent-sphere.csv
	$(BIN)/forwardgrad bench --protocol paper --tangent gaussian --gradients forward --jobs 2 --out $(DATA)/audit-tangent-gaussian.csv

# Not part of `make test`: the nbval pass of every chapter under each setting that changes
# floating-point paths (OpenBLAS kernel and threads, NumPy's AVX-512 paths, one sweep job, XLA's
# ISA), one line per setting. The variables are set by the script for the check only; the build
# and the tests never set them. Pick settings with `make portability SETTINGS=default,jobs-1`.
portability: $(STAMP)
	$(BIN)/python tools/portability.py $(if $(SETTINGS),--settings $(SETTINGS)) $(if $(CHAPTERS),--chapters $(CHAPTERS))

browser: $(STAMP) $(CHROMIUM)
	@test -f $(HTML)/index.html || $(MAKE) --no-print-directory book
	$(BIN)/python tests/browser_check.py --html $(HTML) --screenshots book/_build/screenshots

# Debian's Chromium, driven by Playwright's Python package (`playwright install` needs the network).
$(CHROMIUM):
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

clean:
	rm -rf book/_build .pytest_cache
