"""The Dockerfile and its .dockerignore, read without a Docker engine: a multi-stage build that
installs the locked dependencies without the dev group, copies only what exists and is in the
build context, and ends as an unprivileged user with no dev tool in the image.

The parser below reads the subset of the Dockerfile syntax the project uses: one instruction
per logical line (``\\`` continues a line), comment lines, ``FROM IMAGE AS NAME`` with global
``ARG`` defaults, and the exec (JSON) or shell form of arguments. The .dockerignore matcher
follows Docker's rules: ``*`` and ``?`` stay within a path segment, ``**`` spans segments, a
pattern that matches a folder excludes what is inside it, ``!`` re-includes, and the last
pattern that matches decides."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from approval.config import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
LOCK = PROJECT_ROOT / "uv.lock"
PROJECT_NAME = "approval-engine"
BASE_IMAGE = re.compile(r"^python:3\.11-slim(-bookworm)?(@sha256:[0-9a-f]{64})?$")
DEV_TOOLS = ("pytest", "pytest-asyncio", "hypothesis", "ruff", "mypy", "playwright", "py-spy")
"""Packages of the dev group that must never be in the image."""
INSTALLERS = frozenset({"pip", "pip3", "uv", "apt", "apk", "conda", "poetry", "pipx"})
"""Installers the runtime stage never runs (nor ``python -m pip``): its Python packages are
the builder's, its system packages apt-get's."""
PRINTING_PACKAGES = frozenset(
    {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-noto-cjk"}
)
"""The Debian packages the runtime stage installs, and only those: WeasyPrint's system
libraries and the CJK fonts of the printed notices (approval.printing)."""
CI_RUN = PROJECT_ROOT / ".ci" / "run"


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword in upper case, its arguments (continuations joined)."""

    keyword: str
    arguments: str
    line: int

    def words(self) -> list[str]:
        """The arguments as words: leading ``--flag=value`` options, then the exec form's JSON
        array or the rest split as a shell would."""
        text = self.arguments.strip()
        flags = []
        while text.startswith("--"):
            flag, _, text = text.partition(" ")
            flags.append(flag)
            text = text.strip()
        if text.startswith("["):
            words = json.loads(text)
            assert isinstance(words, list) and all(isinstance(w, str) for w in words)
            return flags + words
        return flags + shlex.split(text)


@dataclass(frozen=True)
class Stage:
    """A build stage: its base image (global ARGs substituted), its name, its instructions."""

    base: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def of(self, keyword: str) -> list[Instruction]:
        """The stage's instructions with ``keyword``."""
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, in order."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comments and blank lines, also between continued lines
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped[:-1].strip() if continued else stripped)
        if continued:
            continue
        keyword, _, arguments = " ".join(pending).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def parse_stages(instructions: list[Instruction]) -> list[Stage]:
    """The build stages, with the global ARGs (those before the first FROM) substituted in
    their base image."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    current: list[Instruction] | None = None
    base, name = "", None
    for instruction in instructions:
        if instruction.keyword == "FROM":
            if current is not None:
                stages.append(Stage(base, name, tuple(current)))
            words = [w for w in instruction.words() if not w.startswith("--platform")]
            base = re.sub(
                r"\$\{(\w+)\}|\$(\w+)",
                lambda m: global_args.get(m[1] or m[2], ""),
                words[0],
            )
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            current = []
        elif current is None:
            assert instruction.keyword == "ARG", f"line {instruction.line}: before FROM"
            arg, _, default = instruction.arguments.partition("=")
            global_args[arg.strip()] = default.strip().strip('"')
        else:
            current.append(instruction)
    if current is not None:
        stages.append(Stage(base, name, tuple(current)))
    return stages


def copy_parts(instruction: Instruction) -> tuple[dict[str, str], list[str], str]:
    """A COPY's flags (``--from=builder`` → ``{"from": "builder"}``), sources, destination."""
    words = instruction.words()
    flags = {}
    while words and words[0].startswith("--"):
        flag, _, value = words.pop(0)[2:].partition("=")
        flags[flag] = value
    assert len(words) >= 2, f"line {instruction.line}: COPY needs a source and a destination"
    return flags, words[:-1], words[-1]


def ignore_patterns(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """The .dockerignore's patterns in order: (excludes, regular expression of the path)."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        included = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
        patterns.append((not included, re.compile(_glob_to_regex(pattern))))
    return patterns


def _glob_to_regex(pattern: str) -> str:
    """Docker's glob: ``**`` any run of segments, ``*``/``?`` within one, ``[...]`` a class."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def is_excluded(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether ``path`` (relative to the build context, ``/``-separated) is left out of the
    build context: the last pattern matching it or one of its folders decides."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for excludes, regex in patterns:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = excludes
    return excluded


def stages() -> list[Stage]:
    """The Dockerfile's stages."""
    return parse_stages(parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")))


def runtime_stage() -> Stage:
    """The last stage: the image that runs."""
    return stages()[-1]


def context_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """The .dockerignore's patterns."""
    return ignore_patterns(DOCKERIGNORE.read_text(encoding="utf-8"))


def image_paths() -> set[str]:
    """The repository paths (files and folders, relative) the runtime stage copies from the
    build context."""
    copied: set[str] = set()
    for instruction in runtime_stage().of("COPY"):
        flags, sources, _ = copy_parts(instruction)
        if "from" not in flags:
            copied.update(posixpath.normpath(source) for source in sources)
    return copied


def in_image(path: str) -> bool:
    """Whether the repository file ``path`` (relative) is copied into the runtime image and not
    left out of the build context."""
    normal = posixpath.normpath(path)
    copied = any(normal == p or normal.startswith(p + "/") for p in image_paths())
    return copied and not is_excluded(normal, context_patterns())


def normalise(name: str) -> str:
    """A distribution name as the lock writes it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_packages() -> list[dict[str, Any]]:
    """The packages of uv.lock."""
    packages: list[dict[str, Any]] = tomllib.loads(LOCK.read_text(encoding="utf-8"))["package"]
    return packages


def project_package() -> dict[str, Any]:
    """The project's own entry in uv.lock."""
    (root,) = [p for p in locked_packages() if normalise(p["name"]) == PROJECT_NAME]
    return root


def runtime_closure() -> set[str]:
    """Every package ``uv sync --no-dev`` installs from uv.lock: the project's dependencies,
    with the extras they ask for, and theirs, transitively (markers are ignored: a superset)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for package in locked_packages():
        by_name.setdefault(normalise(package["name"]), []).append(package)

    def requirements(deps: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
        return [(normalise(d["name"]), tuple(d.get("extra", ()))) for d in deps]

    seen: set[tuple[str, tuple[str, ...]]] = set()
    todo = requirements(project_package().get("dependencies", []))
    while todo:
        requirement = todo.pop()
        if requirement in seen:
            continue
        seen.add(requirement)
        name, extras = requirement
        for package in by_name[name]:
            todo.extend(requirements(package.get("dependencies", [])))
            for extra in extras:
                todo.extend(requirements(package.get("optional-dependencies", {}).get(extra, [])))
    return {name for name, _ in seen}


def dev_group() -> set[str]:
    """The packages of the project's dev group in uv.lock."""
    dev = project_package().get("dev-dependencies", {}).get("dev", [])
    return {normalise(d["name"]) for d in dev}


def test_the_parser_joins_continued_lines_and_skips_comments() -> None:
    """The parser reads a continued RUN as one instruction, skips comment lines inside it, and
    substitutes global ARGs in FROM: so the tests below read what Docker would."""
    text = (
        "ARG BASE=python:3.11-slim\n"
        "FROM ${BASE} AS builder\n"
        "RUN a \\\n"
        "    # a comment inside\n"
        "    && b\n"
        "FROM $BASE\n"
        'COPY --from=builder ["/x", "/y"]\n'
    )
    first, last = parse_stages(parse_dockerfile(text))
    assert (first.base, first.name) == ("python:3.11-slim", "builder")
    assert first.of("RUN")[0].arguments == "a && b"
    assert last.name is None
    assert copy_parts(last.of("COPY")[0]) == ({"from": "builder"}, ["/x"], "/y")


def test_the_ignore_matcher_follows_dockers_rules() -> None:
    """The .dockerignore matcher excludes a folder's contents with the folder, re-includes
    with ``!``, lets the last match win and spans folders with ``**`` only."""
    patterns = ignore_patterns("*\n!src/\n**/__pycache__\nsrc/*.tmp\n")
    assert is_excluded("notes.txt", patterns)
    assert is_excluded("deep/er/file", patterns)
    assert not is_excluded("src/app.py", patterns)
    assert is_excluded("src/pkg/__pycache__/app.cpython-311.pyc", patterns)
    assert is_excluded("src/x.tmp", patterns)
    assert not is_excluded("src/pkg/x.tmp", patterns)


def test_the_build_has_a_builder_stage_and_a_runtime_stage_on_python_311_slim() -> None:
    """Multi-stage: a named builder stage and a runtime stage, both on python:3.11-slim
    (Debian bookworm), the runtime taking the builder's virtual environment."""
    found = stages()
    assert len(found) >= 2, "the Dockerfile must have a builder stage and a runtime stage"
    assert all(BASE_IMAGE.match(stage.base) for stage in found), [s.base for s in found]
    builders = {stage.name for stage in found[:-1]}
    froms = [copy_parts(c)[0].get("from") for c in runtime_stage().of("COPY")]
    assert any(name in builders for name in froms), "the runtime copies nothing from a builder"


def test_the_builder_installs_the_lock_without_the_dev_group() -> None:
    """The dependencies are installed by ``uv sync --frozen --no-dev`` (exactly the lock, no
    dev group) after copying pyproject.toml and uv.lock and before the project's code, so the
    dependency layer is cached; uv itself comes from PyPI through pip."""
    builder = stages()[0]
    runs = [r.arguments for r in builder.of("RUN")]
    syncs = [r for r in runs if re.search(r"\buv sync\b", r)]
    assert syncs, "the builder must run uv sync"
    for sync in syncs:
        words = shlex.split(sync)
        assert "--frozen" in words and "--no-dev" in words, sync
        assert not {"--dev", "--all-groups", "--group", "--only-dev", "--all-extras"} & set(words)
    assert any(re.search(r"\bpip install\b.*\buv\b", r) for r in runs), "uv from PyPI (pip)"
    order = [i for i in builder.instructions if i.keyword in ("COPY", "RUN")]
    first_copy = next(i for i in order if i.keyword == "COPY")
    assert set(copy_parts(first_copy)[1]) == {"pyproject.toml", "uv.lock"}
    sync_at = next(n for n, i in enumerate(order) if i.arguments in syncs)
    copied_before = {s for i in order[:sync_at] if i.keyword == "COPY" for s in copy_parts(i)[1]}
    assert copied_before == {"pyproject.toml", "uv.lock"}, "only the lock before uv sync"


def test_the_image_ends_as_an_unprivileged_user() -> None:
    """The runtime stage's last USER is neither root nor uid 0, and comes after every RUN (so
    nothing runs as root at run time)."""
    stage = runtime_stage()
    users = stage.of("USER")
    assert users, "the runtime stage must set a USER"
    user = users[-1].arguments.split(":")[0].strip()
    assert user not in ("root", "0", ""), user
    last_run = max((r.line for r in stage.of("RUN")), default=0)
    assert users[-1].line > last_run, "a RUN after the last USER would run as that user anyway"


def test_every_copy_source_exists_and_is_in_the_build_context() -> None:
    """Every COPY from the build context names files that exist in the repository and that
    .dockerignore does not leave out (the Python files of a copied folder included)."""
    patterns = context_patterns()
    for stage in stages():
        for instruction in stage.of("COPY"):
            flags, sources, _ = copy_parts(instruction)
            if "from" in flags:
                continue
            for source in sources:
                matches = sorted(PROJECT_ROOT.glob(source))
                assert matches, f"line {instruction.line}: {source} does not exist"
                for match in matches:
                    relative = match.relative_to(PROJECT_ROOT).as_posix()
                    assert not is_excluded(relative, patterns), f"{relative} is .dockerignored"
                    if match.is_dir():
                        for file in match.rglob("*.py"):
                            inner = file.relative_to(PROJECT_ROOT).as_posix()
                            assert not is_excluded(inner, patterns), f"{inner} is .dockerignored"


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    """The virtual environments, tools, local data, git, caches, tests and the secret files
    never reach the build context."""
    patterns = context_patterns()
    for path in (
        ".venv/bin/python",
        ".tools/bin/uv",
        ".data/approval.sqlite3",
        ".git/config",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/x",
        ".pytest_cache/v/x",
        "tests/conftest.py",
        "bench/README.md",
        "deploy/secrets/approval_audit_key",
        "approval/__pycache__/config.cpython-311.pyc",
        "workflows/.hypothesis/x",
    ):
        assert is_excluded(path, patterns), f"{path} would be in the build context"


def commands(run: Instruction) -> list[list[str]]:
    """The commands of a RUN (split at ``&&``, ``||``, ``;`` and ``|``), as words, without the
    environment assignments before each program."""
    found = []
    for command in re.split(r"&&|\|\||;|\|", run.arguments):
        words = shlex.split(command)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            words.pop(0)
        if words:
            found.append(words)
    return found


def apt_commands(run: Instruction) -> list[list[str]]:
    """The apt-get commands of a RUN, as words."""
    return [words for words in commands(run) if words[0] == "apt-get"]


def apt_installs(stage: Stage) -> list[tuple[Instruction, list[str]]]:
    """Each ``apt-get install`` of the stage: its RUN and its words after ``install``."""
    return [
        (run, words[words.index("install") + 1 :])
        for run in stage.of("RUN")
        for words in apt_commands(run)
        if "install" in words
    ]


def test_the_run_reader_finds_each_command_and_each_apt_get_install() -> None:
    """The RUN reader splits a RUN into its commands, drops the environment assignments
    before a program, and finds an apt-get install's packages: so the checks below see
    ``pip``, ``python -m pip`` or ``apk`` wherever they stand in a RUN."""
    text = (
        "FROM python:3.11-slim\n"
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y a b \\\n"
        "    && rm -rf /var/lib/apt/lists/* ; X=1 /usr/bin/pip install c | python -m pip list\n"
    )
    (stage,) = parse_stages(parse_dockerfile(text))
    (run,) = stage.of("RUN")
    assert [words[0] for words in commands(run)] == [
        "apt-get",
        "apt-get",
        "rm",
        "/usr/bin/pip",
        "python",
    ]
    assert [packages for _, packages in apt_installs(stage)] == [["-y", "a", "b"]]


def test_the_runtime_stage_installs_no_python_package_and_no_dev_tool() -> None:
    """The runtime stage runs no Python installer (pip, uv …) nor another system installer
    than apt-get, and names no dev tool: its Python packages come from the builder's locked,
    dev-free environment."""
    for run in runtime_stage().of("RUN"):
        for words in commands(run):
            program = posixpath.basename(words[0])
            assert program not in INSTALLERS, f"line {run.line}: {run.arguments}"
            assert not (program.startswith("python") and "pip" in words), run.arguments
        for tool in DEV_TOOLS:
            assert not re.search(rf"\b{re.escape(tool)}\b", run.arguments), run.arguments
        for words in apt_commands(run):
            assert words[1] in ("update", "install"), f"line {run.line}: {' '.join(words)}"


def test_the_runtime_image_has_weasyprints_libraries_and_the_cjk_fonts() -> None:
    """The runtime stage installs, with apt-get and without recommendations, exactly the
    Debian packages the printed notices need (Pango and HarfBuzz's subsetter for WeasyPrint,
    fonts-noto-cjk), in a RUN that leaves no package lists in the image."""
    installs = apt_installs(runtime_stage())
    assert installs, "the runtime stage installs neither WeasyPrint's libraries nor the fonts"
    packages: set[str] = set()
    for run, words in installs:
        assert "-y" in words and "--no-install-recommends" in words, run.arguments
        assert "rm -rf /var/lib/apt/lists/*" in run.arguments, run.arguments
        packages.update(w for w in words if not w.startswith("-"))
    assert packages == PRINTING_PACKAGES


def test_ci_installs_the_printing_packages_and_pdftotext() -> None:
    """.ci/run installs what the image has for printing, and poppler-utils (pdftotext, which
    the tests read the PDFs with), where they are missing: the printing tests never skip."""
    lines = CI_RUN.read_text(encoding="utf-8").splitlines()
    script = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    named = {
        package
        for package in PRINTING_PACKAGES | {"poppler-utils"}
        if re.search(rf"(?<![\w.-]){re.escape(package)}(?![\w.-])", script)
    }
    assert named == PRINTING_PACKAGES | {"poppler-utils"}


def test_no_dev_tool_is_in_the_locked_runtime_dependencies() -> None:
    """None of pytest, ruff, mypy, playwright (and the other dev tools) is a runtime dependency
    of the project in uv.lock, even transitively: ``uv sync --no-dev`` cannot install them.
    They are in the dev group, so the check looks at packages that are really there."""
    closure = runtime_closure()
    assert {"temporalio", "alembic", "uvicorn", "sqlalchemy"} <= closure
    assert set(DEV_TOOLS) <= dev_group()
    assert not set(DEV_TOOLS) & closure


@pytest.mark.parametrize("entry_point", ["worker.py", "starter.py", "auditor.py"])
def test_the_entry_points_and_packages_are_in_the_image(entry_point: str) -> None:
    """The programs the compose file runs, and the packages they import, are copied into the
    runtime image: worker.py, starter.py, auditor.py, approval/, activities/, workflows/, the
    catalogue in data/, and pyproject.toml (alembic's configuration)."""
    for path in (
        entry_point,
        "approval/runtime.py",
        "approval/store/migrations/env.py",
        "activities/store.py",
        "workflows/case_workflow.py",
        "data/catalogue.yaml",
        "pyproject.toml",
    ):
        assert (PROJECT_ROOT / path).exists(), path
        assert in_image(path), f"{path} is not in the image"


def test_the_data_directory_is_a_volume_the_user_owns() -> None:
    """APPROVAL_DATA_DIR points at a folder the runtime stage creates for its user and
    declares as a volume."""
    stage = runtime_stage()
    env = " ".join(e.arguments for e in stage.of("ENV"))
    found = re.search(r"APPROVAL_DATA_DIR=(\S+)", env)
    assert found, "APPROVAL_DATA_DIR is not set"
    data_dir = found[1]
    user = stage.of("USER")[-1].arguments.split(":")[0]
    assert any(
        data_dir in run.arguments and f"-o {user}" in run.arguments for run in stage.of("RUN")
    ), f"{data_dir} is not created for {user}"
    assert any(data_dir in v.arguments for v in stage.of("VOLUME")), f"{data_dir} is no volume"


def test_the_path_leads_to_the_virtual_environment() -> None:
    """``python`` in the image is the virtual environment's: PATH starts with its bin folder,
    the folder the builder's environment is copied to."""
    stage = runtime_stage()
    env = " ".join(e.arguments for e in stage.of("ENV"))
    found = re.search(r"(?<![A-Z_])PATH=([^\s:]+)/bin:", env)
    assert found, "PATH does not start with a virtual environment"
    venv = found[1]
    destinations = [copy_parts(c)[2] for c in stage.of("COPY") if "from" in copy_parts(c)[0]]
    assert any(Path(d) == Path(venv) for d in destinations), (venv, destinations)
