# Two commands do all the set-up on a fresh machine:
#   make run    — the main job: Temporal dev server (SQLite) + worker + catalogue, on this machine
#   make test   — ruff, mypy and the whole test suite against real Temporal servers
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# The local stack and the simulation are development: the published development audit key,
# and `starter.py --as USER` with the demo tokens. Anything else needs APPROVAL_AUDIT_KEY.
DEVELOPMENT = APPROVAL_ENVIRONMENT=development

.PHONY: run test lint sync simulate

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

sync: $(UV)
	$(UV) sync --frozen

run: sync
	$(DEVELOPMENT) $(UV) run --frozen python starter.py up

simulate: sync
	$(DEVELOPMENT) $(UV) run --frozen python starter.py simulate

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy .

test: lint
	$(UV) run --frozen pytest
