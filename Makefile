# Two commands do all the set-up:  `make run`  and  `make test`.
# Both create or refresh .venv first; when nothing changed, that step takes well under a second.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0

.PHONY: run test install lint typecheck validate-bank pytest console validate clean

run: install
	$(BIN)/python -m bot start

test: install lint typecheck validate-bank pytest

install: $(VENV)/.installed

# CPU torch first, from the local wheel: an unpinned torch could pull a multi-GB CUDA build.
$(VENV)/.torch:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy bot

validate-bank:
	$(BIN)/python -m bot content validate

pytest:
	$(BIN)/python -m pytest -q

console: install
	$(BIN)/python -m bot console

validate: install
	$(BIN)/python -m bot content validate

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
