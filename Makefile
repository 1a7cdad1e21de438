# Two commands do all the set-up on a fresh machine:
#   make run    — the main job: Temporal dev server (SQLite) + worker + API + catalogue, on this machine
#   make test   — ruff, mypy and the whole test suite against real Temporal servers
# and `make demo` runs the README's walk-through against the stack (started, and stopped, when
# none is running).
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# The local stack and the simulation are development: the published development audit key,
# and `starter.py --as USER` with the demo tokens. Anything else needs APPROVAL_AUDIT_KEY.
DEVELOPMENT = APPROVAL_ENVIRONMENT=development

# Running installs only what running needs (the locked dependencies without the dev group);
# the tests install the dev tools too. Every sync writes the installed packages' bytecode, once:
# each command of the walk-through is a process of its own, and one that compiles its imports
# anew (where nothing writes bytecode, PYTHONDONTWRITEBYTECODE) starts two to three times slower.
RUNTIME = --frozen --no-dev
export UV_COMPILE_BYTECODE = 1

.PHONY: run demo test lint sync sync-runtime simulate

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

sync: $(UV)
	$(UV) sync --frozen

sync-runtime: $(UV)
	$(UV) sync $(RUNTIME)

run: sync-runtime
	$(DEVELOPMENT) $(UV) run $(RUNTIME) python starter.py up

demo: sync-runtime
	$(DEVELOPMENT) $(UV) run $(RUNTIME) python -m approval.cli.walkthrough

simulate: sync-runtime
	$(DEVELOPMENT) $(UV) run $(RUNTIME) python starter.py simulate

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy .

test: lint
	$(UV) run --frozen pytest
