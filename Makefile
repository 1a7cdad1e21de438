# Two commands do all the set-up on a fresh machine:
#   make run    — the main job: Temporal dev server (SQLite) + worker + catalogue, on this machine
#   make test   — ruff, mypy and the whole test suite against real Temporal servers
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run test lint sync simulate

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

sync: $(UV)
	$(UV) sync --frozen

run: sync
	$(UV) run --frozen python starter.py up

simulate: sync
	$(UV) run --frozen python starter.py simulate

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy .

test: lint
	$(UV) run --frozen pytest
