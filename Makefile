# Quick start: `make demo` and `make test` do all set-up themselves (only python3 + pip needed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
PYTEST_ARGS ?= -n auto

.PHONY: demo test test-pythons lint typecheck check clean venv docs fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# panopticapi's own evaluation/utils modules (the COCO panoptic reference, run by tests/interop): its PyPI
	# packaging pins numpy<2, which the rest of the test extra outgrew; those modules run unchanged on numpy 2.
	$(BIN)/python -m pip install --quiet --no-deps panopticapi-lite==0.2.0
	touch $@ $(STAMP_RUN)

venv: $(STAMP_TEST)

## demo: validate every bundled documented example of every format and print the reports
demo: $(STAMP_RUN)
	$(BIN)/labelspec examples

## test: the whole suite (lint, types, unit, property, interoperability, CLI acceptance)
test: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/typecheck.py
	$(BIN)/labelspec codegen --check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## fuzz: every property test (pytest -m hypothesis) with many random examples (HYPOTHESIS_FUZZ_EXAMPLES,
## default 2000 each) instead of the bounded, derandomised CI profile; prints hypothesis statistics
FUZZ_ARGS ?= -n 2
fuzz: $(STAMP_TEST)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -m hypothesis -p no:cacheprovider \
		--hypothesis-show-statistics -q $(FUZZ_ARGS)

## test-pythons: the validator, native-path and CLI tests on Python 3.10 and 3.13 (pyenv), own venv each
test-pythons:
	PYTEST_ARGS="$(PYTEST_ARGS)" ./.ci/pythons

## docs: build the documentation site into site/ (pages generated from schemas/, rules and the CLI)
docs: $(STAMP_TEST)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP_TEST)
	$(BIN)/python tools/typecheck.py

clean:
	rm -rf $(VENV) .venv-3.* build dist site *.egg-info .pytest_cache .mypy_cache .ruff_cache
