# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv if it is missing and installs what it needs into it.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-local-dev

.PHONY: demo test test-unit lint bench bench-scenario bench-scale bench-livekit bench-turn clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[local,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/bargein demo

test: $(STAMP)
	$(PY) -m pytest

test-unit: $(STAMP)
	$(PY) -m pytest -m "not integration and not slow"

lint: $(STAMP)
	$(PY) -m ruff check src tests examples benchmarks

bench: $(STAMP)
	$(PY) benchmarks/providers.py --write

bench-scenario: $(STAMP)
	$(PY) benchmarks/scenario_speed.py --write

bench-scale: $(STAMP)
	$(PY) benchmarks/scaling.py --write

bench-livekit: $(STAMP)
	$(PY) benchmarks/livekit_vs_bargein.py --write

bench-turn: $(STAMP)
	$(PY) benchmarks/turn_detector.py --write

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/*.egg-info
