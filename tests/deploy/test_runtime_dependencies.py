"""What running needs is what running installs: ``make run`` (and the image) sync the locked
dependencies without the dev group, and every package the engine's programs import at run
time is one of those."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from approval.config import PROJECT_ROOT
from tests.deploy.test_dockerfile import normalise, runtime_closure

RUNTIME_CODE = ("approval", "workflows", "activities", "worker.py", "starter.py", "auditor.py")
OWN = frozenset({"approval", "workflows", "activities", "tests"})


def runtime_sources() -> list[Path]:
    """The Python files the programs run from."""
    found: list[Path] = []
    for name in RUNTIME_CODE:
        path = PROJECT_ROOT / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def top_level_imports(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports (absolute imports only)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def third_party(names: set[str]) -> set[str]:
    """The names that are neither the standard library's nor the project's own."""
    return {n for n in names if n not in sys.stdlib_module_names and n not in OWN}


def test_every_package_the_programs_import_is_a_runtime_dependency() -> None:
    """Each third-party module imported anywhere in approval/, workflows/, activities/ and the
    three programs comes from a distribution in the lock's runtime closure, never from the dev
    group alone (a program would fail where only the runtime dependencies are installed)."""
    closure = runtime_closure()
    distributions = packages_distributions()
    assert {"temporalio", "sqlalchemy", "fastapi"} <= {
        n for p in runtime_sources() for n in third_party(top_level_imports(p))
    }
    for path in runtime_sources():
        for module in third_party(top_level_imports(path)):
            providers = {normalise(d) for d in distributions.get(module, [])}
            where = path.relative_to(PROJECT_ROOT)
            assert providers, f"{where}: {module} is installed by no distribution"
            assert providers & closure, (
                f"{where}: {module} ({providers}) is not a runtime dependency"
            )


def test_make_run_installs_only_the_runtime_dependencies() -> None:
    """``make run`` and ``make simulate`` sync and run without the dev group; ``make test``
    syncs everything (the dev tools are its own)."""
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    runtime = re.search(r"^RUNTIME = (.+)$", makefile, re.M)
    assert runtime is not None and runtime[1].split() == ["--frozen", "--no-dev"]
    for target in ("run", "simulate"):
        rule = re.search(rf"^{target}: (.+)\n\t(.+)$", makefile, re.M)
        assert rule is not None, target
        assert rule[1] == "sync-runtime" and "run $(RUNTIME)" in rule[2], rule[0]
    assert re.search(r"^sync-runtime: .+\n\t\$\(UV\) sync \$\(RUNTIME\)$", makefile, re.M)
    assert re.search(r"^test: lint$", makefile, re.M)
    assert re.search(r"^lint: sync$", makefile, re.M)
