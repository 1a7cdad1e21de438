# Two commands do all the set-up on a fresh machine:
#   make run    — the main job: Temporal dev server (SQLite) + worker + catalogue, on this machine
#   make test   — ruff, mypy and the whole test suite against real Temporal servers
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# The local stack and the simulation are development: the published development audit key,
# and `starter.py --as USER` with the demo tokens. Anything else needs APPROVAL_AUDIT_KEY.
DEVELOPMENT = APPROVAL_ENVIRONMENT=development

# Running installs only what running needs (the locked dependencies without the dev group);
# the tests install the dev tools too.
RUNTIME = --frozen --no-dev

.PHONY: run test lint sync sync-runtime simulate

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

sync: $(UV)
	$(UV) sync --frozen

sync-runtime: $(UV)
	$(UV) sync $(RUNTIME)

run: sync-runtime
	$(DEVELOPMENT) $(UV) run $(RUNTIME) python starter.py up

simulate: sync-runtime
	$(DEVELOPMENT) $(UV) run $(RUNTIME) python starter.py simulate

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy .

test: lint
	$(UV) run --frozen pytest
