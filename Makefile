# `make test` and `make run` work on a fresh machine: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test run fast lint pdf report table clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: $(STAMP)  ## run the test suite (unit tests + every notebook in FAST mode)
	$(PY) -m pytest

run: $(STAMP)  ## execute every notebook in place on the real datasets
	$(PY) main.py

fast: $(STAMP)  ## execute every notebook in FAST mode into build/fast (committed outputs untouched)
	$(PY) main.py --fast

table: $(STAMP)  ## print the README results table from results/*.json
	$(PY) main.py --table

lint: $(STAMP)
	$(PY) -m ruff check src tests main.py

pdf:  ## build part1_part3_theory.pdf from report/theory.tex
	$(MAKE) -C report pdf

report: $(STAMP)  ## export every executed notebook to HTML under report/exports/
	$(PY) main.py --export-html report/exports

clean:
	rm -rf build .pytest_cache .ruff_cache report/exports
