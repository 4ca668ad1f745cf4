# Two commands do all the set-up:  `make run`  and  `make test`.
# Both create or refresh .venv first; when nothing changed, that step takes well under a second.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
# PyTorch's index of CPU-only wheels. torch from PyPI is the CUDA build (several GB of
# nvidia-* packages); this index is asked only when no wheel on this machine satisfies
# $(TORCH). Another mirror: `make test TORCH_INDEX=https://mirror.example/whl/cpu`.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: run test install lint typecheck validate-bank pytest console validate clean

run: install
	$(BIN)/python -m bot start

test: install lint typecheck validate-bank pytest

install: $(VENV)/.installed

# CPU torch first, so that nothing later pulls the CUDA build from PyPI:
#  1. a wheel already on this machine (pip's find-links: PIP_FIND_LINKS or pip.conf), without
#     touching the network (--no-index);
#  2. otherwise the CPU build from $(TORCH_INDEX);
#  3. then torch's own small dependencies (filelock, sympy, ...) from the usual index: torch
#     itself is then installed, so pip does not fetch it again.
$(VENV)/.torch:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-index --no-deps $(TORCH) 2>/dev/null \
	  || { echo "no local wheel for $(TORCH): the CPU build from $(TORCH_INDEX)"; \
	       $(BIN)/python -m pip install --quiet --no-deps --index-url $(TORCH_INDEX) $(TORCH); }
	$(BIN)/python -m pip install --quiet $(TORCH)
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck:
	$(BIN)/mypy bot
	$(BIN)/mypy --explicit-package-bases bench/*.py

validate-bank:
	$(BIN)/python -m bot content validate

# Two pytest workers, a test file each at a time (--dist loadfile: a file's fixtures stay in one
# process): the end-to-end tests spend much of their time waiting on bot processes and demo
# workers. `make pytest PYTEST_WORKERS=0` runs them in this process, one after another.
PYTEST_WORKERS ?= 2

pytest:
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

console: install
	$(BIN)/python -m bot console

validate: install
	$(BIN)/python -m bot content validate

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
