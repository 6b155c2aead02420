# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What the demo needs (the runtime extras), and what the tests need besides (dev: pytest,
# playwright, dask, nbclient...); installing dev installs the runtime extras too.
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $(RUNTIME)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP) $(RUNTIME)

# slopes-demo/ is make's own output folder (make clean removes it): each run replaces it.
demo: $(RUNTIME)
	MPLBACKEND=Agg $(BIN)/slopes demo --out slopes-demo --overwrite

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples

test: lint
	MPLBACKEND=Agg $(BIN)/python -m pytest

# The documentation site into docs/_build/html: warnings are errors (-W), every reference
# must resolve (-n); the gallery's examples run. The dev extra holds the docs extra's packages.
docs: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m sphinx -b html -W -n --keep-going docs docs/_build/html

# Training speed against a NumPy loop, PyTorch (when installed: pip install torch==2.13.0)
# and scikit-learn; writes benchmarks/results/train_mlp.{json,md}. Then the same training
# on row-ordered and column-ordered (DataFrame) input: benchmarks/results/memory_order.*.
bench: $(STAMP)
	$(BIN)/python benchmarks/train_mlp.py
	$(BIN)/python benchmarks/memory_order.py
	$(BIN)/python benchmarks/regularization.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache slopes-demo \
		docs/_build docs/gallery docs/api
