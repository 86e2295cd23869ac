# `make test` and `make run` work on a fresh machine: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test run pretrain fast lint pdf report table export submission clean

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

pretrain: $(STAMP)  ## rerun Part IV's optional encoder pretraining (part_4_pretrain.ipynb, about 37 min); then make run
	$(PY) main.py --only pretrain

fast: $(STAMP)  ## execute every notebook in FAST mode into build/fast (committed outputs untouched)
	$(PY) main.py --fast

table: $(STAMP)  ## print the README results table from results/*.json
	$(PY) main.py --table

export: $(STAMP)  ## regenerate the package modules from the notebooks' `#@save` cells (after editing a cell)
	$(PY) -m a2.notebooks export

lint: $(STAMP)
	$(PY) -m ruff check src tests main.py

pdf:  ## build part1_part3_theory.pdf from report/theory*.tex (needs TeX, see README)
	$(MAKE) -C report pdf

# assignment2_report.pdf from report/report.tex, results/*.json and report/figures/ (needs TeX), then the
# HTML exports of the executed notebooks under report/exports/. Reruns no notebook. Fails, naming them,
# if a figure or results key is missing; DRAFT=1 builds anyway with visible placeholders.
report: $(STAMP)  ## build assignment2_report.pdf and the notebook HTML exports (DRAFT=1: allow placeholders)
	$(MAKE) -C report report PY=$(abspath $(PY)) $(if $(DRAFT),DRAFT=1)
	$(PY) main.py --export-html report/exports

# build/<UBIT>_assignment2.zip: the report, the part notebooks and the bonus zip under the assignment's names, the
# theory PDF, the weights, dataset_assignment2_part4.txt and the repository to rerun it (never a dataset).
submission: $(STAMP)  ## build build/<UBIT>_assignment2.zip (make submission UBIT=name1_name2)
	PYTHONPATH=src$${PYTHONPATH:+:$$PYTHONPATH} $(PY) -m a2.submission "$(UBIT)"

clean:
	rm -rf build .pytest_cache .ruff_cache report/exports report/build
