"""docker-compose.yml, checked without a Docker engine: it validates against the compose
specification's JSON schema (vendored in deploy/schema/), and it agrees with the project —
every APPROVAL_* variable and secret file is a setting, every command exists, the services
start in order, volumes, secrets, bind mounts and ports are consistent, Prometheus scrapes
what listens, the Grafana dashboard has a query in every panel, and no secret is in the file.

The file is read with PyYAML (merge keys included) and interpolated as Compose does
(``${VAR:-default}``, ``$$``) with an empty environment, so that what is checked is what
``docker compose up`` would run with no .env file."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import itertools
import json
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from approval import search_attributes
from approval.config import (
    DEVELOPMENT,
    DEVELOPMENT_AUDIT_KEY,
    ENV_PREFIX,
    PROJECT_ROOT,
    SECRETS_DIR_VARIABLE,
    Settings,
)
from tests.deploy.test_dockerfile import in_image, normalise, runtime_closure

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
SCHEMA = PROJECT_ROOT / "deploy" / "schema" / "compose-spec.json"
PROMETHEUS = PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARDS = PROJECT_ROOT / "deploy" / "grafana" / "dashboards"
PROVISIONING = PROJECT_ROOT / "deploy" / "grafana" / "provisioning"
NGINX = PROJECT_ROOT / "deploy" / "nginx" / "approval.conf"
SECRETS = PROJECT_ROOT / "deploy" / "secrets"
SECRETS_TARGET = PurePosixPath("/run/secrets")

SEARCH_ATTRIBUTES = {
    "CaseStage": "Keyword",
    "MatterCode": "Keyword",
    "Departments": "KeywordList",
    "Centre": "Keyword",
    "Overdue": "Bool",
    "RedMarked": "Bool",
    "ReceivedAt": "Datetime",
    "CommittedCompletionAt": "Datetime",
}
"""The case's custom search attributes, as the setup service must register them."""

DASHBOARD_METRICS = {
    "approval_cases",
    "approval_decisions_total",
    "approval_silent_consents_total",
    "approval_refused_attempts_total",
    "approval_store_write_seconds_bucket",
    "approval_department_send_retries_total",
    "approval_public_rate_limited_total",
    "approval_http_requests_total",
    "approval_http_request_seconds_bucket",
    "temporal_workflow_task_schedule_to_start_latency_bucket",
    "temporal_activity_execution_latency_bucket",
}
"""The figures the dashboard must show (one metric each at least)."""

SETTINGS_VARIABLES = {ENV_PREFIX + name.upper() for name in Settings.model_fields} | {
    SECRETS_DIR_VARIABLE
}
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|KEY|CREDENTIAL)", re.IGNORECASE)
CREDENTIALS_IN_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]+@", re.IGNORECASE)
PLACEHOLDER_CREDENTIALS = re.compile(r"://[A-Z_]+:[A-Z_]+@$")
"""``ROLE:PASSWORD@``: how a URL's parts are named in comments and messages, not a secret."""
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)
SEPARATORS = {";", "&&", "||", "|", "&", "\n"}
LOCAL_HOSTS = {"0.0.0.0", "127.0.0.1", "localhost", "::"}

# ---------------------------------------------------------------------------------------------
# Reading the file


def _substitute(text: str, env: dict[str, str]) -> str:
    """``text`` with Compose's interpolation applied."""

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["named"]:
            return env.get(match["named"], "")
        expression = match["braced"]
        found = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])(.*))?", expression)
        assert found, f"malformed interpolation ${{{expression}}}"
        name, colon, operator, word = found.groups()
        value = env.get(name)
        is_set = value is not None and (value != "" or not colon)
        if operator == "-":
            return value if is_set and value is not None else word
        if operator == "?":
            assert is_set, f"{name}: {word}"
        if operator == "+":
            return word if is_set else ""
        return value or ""

    return INTERPOLATION.sub(one, text)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` (the loaded file) with every string interpolated; keys are left as they are."""
    if isinstance(value, str):
        return _substitute(value, env)
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return value


def raw_compose() -> dict[str, Any]:
    """The compose file as YAML, merge keys resolved, nothing interpolated."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def compose() -> dict[str, Any]:
    """The compose file as ``docker compose`` reads it with an empty environment."""
    interpolated: dict[str, Any] = interpolate(raw_compose(), {})
    return interpolated


def services() -> dict[str, dict[str, Any]]:
    """The services, by name."""
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def engine_services() -> dict[str, dict[str, Any]]:
    """The services that run the project's own image (built from the Dockerfile)."""
    return {name: s for name, s in services().items() if "build" in s}


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's environment as a mapping (its list form too); None: passed on from the
    shell that runs compose."""
    env = service.get("environment", {})
    if isinstance(env, list):
        pairs = [entry.partition("=") for entry in env]
        return {key: value if sep else None for key, sep, value in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


def argv(value: str | list[str] | None) -> list[str]:
    """A command or entrypoint as a list of words."""
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(word) for word in value]


def simple_commands(words: list[str]) -> list[list[str]]:
    """The programs a command runs, each with its arguments: ``sh -c SCRIPT`` is split into
    its simple commands; ``exec``, ``export`` and leading ``NAME=value`` words are dropped."""
    if len(words) >= 3 and PurePosixPath(words[0]).name in ("sh", "bash") and words[1] == "-c":
        lexer = shlex.shlex(words[2], posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.whitespace = " \t\r"
        found: list[list[str]] = [[]]
        for token in lexer:
            if token in SEPARATORS:
                found.append([])
            else:
                found[-1].append(token)
        return [cmd for part in found if (cmd := _program(part))]
    program = _program(words)
    return [program] if program else []


def _program(words: list[str]) -> list[str]:
    """``words`` without a leading ``exec`` / ``export`` or ``NAME=value`` assignments."""
    rest = list(words)
    while rest and (rest[0] in ("exec", "export") or re.match(r"^[A-Za-z_]\w*=", rest[0])):
        rest.pop(0)
    return rest


def commands(service: dict[str, Any]) -> list[list[str]]:
    """The programs the service's entrypoint and command run."""
    return simple_commands(argv(service.get("entrypoint"))) + simple_commands(
        argv(service.get("command"))
    )


def all_words(service: dict[str, Any]) -> list[str]:
    """Every word of the service's entrypoint, command and environment values."""
    words = [w for cmd in commands(service) for w in cmd]
    words += [w for w in argv(service.get("entrypoint")) + argv(service.get("command"))]
    words += [value for value in environment(service).values() if value]
    return words


def mounts(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The service's volumes as (type, source, target): ``bind`` for a path of this machine,
    ``volume`` for a named volume."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            found.append((volume["type"], str(volume.get("source", "")), volume["target"]))
            continue
        parts = volume.split(":")
        source, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
        is_path = source.startswith((".", "/", "~"))
        found.append(("bind" if is_path else "volume", source, target))
    return found


def bind_mounts(service: dict[str, Any]) -> dict[PurePosixPath, Path]:
    """The service's bind mounts: target in the container → the path in the repository."""
    return {
        PurePosixPath(target): (PROJECT_ROOT / source).resolve()
        for kind, source, target in mounts(service)
        if kind == "bind"
    }


def secret_targets(service: dict[str, Any]) -> dict[str, str]:
    """The service's secrets: the file name under /run/secrets → the secret's name."""
    found = {}
    for secret in service.get("secrets", []):
        if isinstance(secret, str):
            found[secret] = secret
        else:
            target = str(secret.get("target", secret["source"]))
            found[PurePosixPath(target).name] = secret["source"]
    return found


def exposed(service: dict[str, Any]) -> set[int]:
    """The ports the service says it listens on: its ``expose`` and its published ports."""
    ports = {int(str(port).split("/")[0]) for port in service.get("expose", [])}
    return ports | {container for _, _, container in published(service)}


def published(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """The service's published ports as (host address, host port, container port)."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            host_ip = str(port.get("host_ip", "0.0.0.0"))
            found.append((host_ip, int(port["published"]), int(port["target"])))
            continue
        parts = str(port).split("/")[0].rsplit(":", 2)
        assert len(parts) >= 2, f"{port}: publish with an explicit host port"
        host_ip = parts[0] if len(parts) == 3 else "0.0.0.0"
        found.append((host_ip, int(parts[-2]), int(parts[-1])))
    return found


def listening(service: dict[str, Any]) -> set[int]:
    """The ports the service's process is configured to listen on, where its configuration
    says: ``--port N``, a ``host:port`` listen address of the engine's or Temporal's."""
    ports = set()
    for cmd in commands(service):
        for flag, value in itertools.pairwise(cmd):
            if flag == "--port":
                ports.add(int(value))
    env = environment(service)
    for variable in ("APPROVAL_WORKER_METRICS_ADDRESS", "PROMETHEUS_ENDPOINT"):
        if env.get(variable):
            ports.add(int(str(env[variable]).rsplit(":", 1)[1]))
    return ports


def one_shots() -> set[str]:
    """The services others wait for to complete: set-up and migration jobs."""
    return {
        dependency
        for service in services().values()
        for dependency, options in dependencies(service).items()
        if options.get("condition") == "service_completed_successfully"
    }


def dependencies(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A service's depends_on as a mapping (its list form: no condition)."""
    depends = service.get("depends_on", {})
    if isinstance(depends, list):
        return {name: {} for name in depends}
    found: dict[str, dict[str, Any]] = depends
    return found


def addresses(text: str) -> Iterator[tuple[str, int]]:
    """Every ``host:port`` (also inside a URL) in ``text``, but for this machine's."""
    for found in re.finditer(r"(?:[a-z][a-z0-9+.-]*://)?\b([a-z][a-z0-9-]*):(\d{2,5})\b", text):
        host, port = found[1], int(found[2])
        if host not in LOCAL_HOSTS:
            yield host, port


def secret_values(doc: dict[str, Any], text: str) -> list[str]:
    """What looks like a secret written in the compose file: a literal value of a variable
    named as a secret (password, key, token …; a ``_FILE`` variable naming a file under
    /run/secrets is the way), a URL with credentials, the published development key, or the
    engine's secret settings given in the environment instead of files."""
    found = []
    for name, service in doc.get("services", {}).items():
        for variable, value in environment(service).items():
            if value is None:
                continue
            if variable in ("APPROVAL_AUDIT_KEY", "APPROVAL_DATABASE_URL"):
                found.append(f"{name}: {variable} must come from its secret file")
            elif variable == SECRETS_DIR_VARIABLE:
                continue
            elif SECRET_NAME.search(variable):
                is_file = variable.endswith("_FILE") and value.startswith(f"{SECRETS_TARGET}/")
                if not is_file:
                    found.append(f"{name}: {variable} has a value in the file")
    found += [
        f"credentials in a URL: {m[0]}"
        for m in CREDENTIALS_IN_URL.finditer(text)
        if not PLACEHOLDER_CREDENTIALS.search(m[0])
    ]
    if DEVELOPMENT_AUDIT_KEY in text:
        found.append("the published development audit key")
    return found


def script_of(service: dict[str, Any]) -> Path:
    """The repository file of the shell script a service runs (``sh SCRIPT``)."""
    binds = bind_mounts(service)
    for cmd in commands(service):
        if cmd and cmd[0] in ("sh", "bash", "/bin/sh", "/bin/bash") and len(cmd) == 2:
            return binds[PurePosixPath(cmd[1])]
    raise AssertionError("the service runs no mounted script")


def promql_metrics(expression: str) -> set[str]:
    """The metric names an expression selects (identifiers before ``{``, ``[`` or a ``)``
    that are not functions, keywords or labels)."""
    without_strings = re.sub(r'"[^"]*"', '""', expression)
    without_labels = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_grouping = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_labels)
    names = set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", without_grouping))
    keywords = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
    return {n for n in names if n not in keywords and not re.fullmatch(r"\d+[smhdwy]?", n)}


def dashboards() -> list[dict[str, Any]]:
    """The provisioned dashboards."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(DASHBOARDS.glob("*.json"))]


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel of a dashboard that shows data (rows' panels included, rows left out)."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def provisioned(kind: str) -> list[dict[str, Any]]:
    """The Grafana provisioning files of ``kind`` (datasources, dashboards), loaded."""
    return [
        yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((PROVISIONING / kind).glob("*.y*ml"))
    ]


# ---------------------------------------------------------------------------------------------
# The schema


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    """docker-compose.yml, interpolated as Compose does, is valid under the vendored compose
    specification schema (JSON Schema draft-07), and so is the file before interpolation."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"].rstrip("#/").endswith("draft-07/schema")
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for document in (compose(), raw_compose()):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert not errors, errors


def test_the_schema_refuses_a_broken_file() -> None:
    """The vendored schema is in force: an unknown depends_on condition, an unknown service
    key and a service that is not a mapping are refused."""
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    breakers: list[Callable[[dict[str, Any]], None]] = [
        lambda d: d["services"]["worker"]["depends_on"]["migrate"].update(condition="soon"),
        lambda d: d["services"]["api"].update(replica_count=2),
        lambda d: d["services"].update(broken=["not", "a", "service"]),
    ]
    for breaking in breakers:
        document = copy.deepcopy(compose())
        breaking(document)
        assert list(validator.iter_errors(document)), "the schema accepted a broken file"


def test_every_interpolated_variable_has_a_default() -> None:
    """Every ``${VAR}`` of the file has a default (``${VAR:-value}``), so that ``docker compose
    up`` needs no .env file; none of them is named as an engine setting (APPROVAL_*), which are
    set per service instead."""
    text = COMPOSE.read_text(encoding="utf-8")
    for found in INTERPOLATION.finditer(text):
        if found["escaped"]:
            continue
        assert found["braced"] and ":-" in found["braced"], f"no default: {found[0]}"
        assert not found["braced"].startswith(ENV_PREFIX), f"{found[0]}: a setting's name"
    assert compose()["services"], "interpolation left no services"


# ---------------------------------------------------------------------------------------------
# Settings and secrets


def test_every_approval_variable_is_a_setting() -> None:
    """Every APPROVAL_* variable the file sets or names (in an environment or a command) is a
    field of approval.config.Settings, or APPROVAL_SECRETS_DIR."""
    named = set()
    for service in services().values():
        named |= {v for v in environment(service) if v.startswith(ENV_PREFIX)}
        for word in all_words(service):
            named |= set(re.findall(rf"\b{ENV_PREFIX}[A-Z0-9_]+\b", word))
    assert named, "the file sets no APPROVAL_* variable"
    assert not named - SETTINGS_VARIABLES, sorted(named - SETTINGS_VARIABLES)


@pytest.mark.parametrize("name", sorted(engine_services()))
def test_each_engine_service_settings_are_valid(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The APPROVAL_* values each service of the engine's image gets are accepted by Settings
    (host:port, URLs, booleans …), in production mode."""
    env = environment(services()[name])
    for variable in [v for v in os.environ if v.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(variable)
    for variable, value in env.items():
        if variable.startswith(ENV_PREFIX) and value is not None:
            monkeypatch.setenv(variable, value)
    if not any(v.startswith(ENV_PREFIX) for v in env):
        return  # a service configured by its command line alone (the migration)
    settings = Settings()
    assert settings.environment == "production"
    assert not settings.development


def test_the_environment_is_never_development() -> None:
    """Every service of the engine's image that reads settings runs in production mode
    (APPROVAL_ENVIRONMENT=production), and ``development`` is nowhere a value of it, not even
    as an interpolation default."""
    for name, service in engine_services().items():
        env = environment(service)
        if any(v.startswith(ENV_PREFIX) for v in env):
            assert env.get("APPROVAL_ENVIRONMENT") == "production", name
    raw = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(rf"APPROVAL_ENVIRONMENT\W+[^\n]*{DEVELOPMENT}", raw)


def test_every_secret_file_of_the_engine_is_a_setting() -> None:
    """Every secret the engine's services read from /run/secrets (with APPROVAL_SECRETS_DIR)
    is named as a setting in lower case, the directory is /run/secrets, and every
    ``approval_*`` secret of the file is such a setting."""
    settings_files = {v.lower() for v in SETTINGS_VARIABLES - {SECRETS_DIR_VARIABLE}}
    for name, service in engine_services().items():
        env = environment(service)
        files = secret_targets(service)
        if not files:
            continue
        if SECRETS_DIR_VARIABLE in env:
            assert env[SECRETS_DIR_VARIABLE] == str(SECRETS_TARGET), name
            assert set(files) <= settings_files, (name, set(files) - settings_files)
        else:  # read by its command instead, which must name the file
            assert all(any(f"{SECRETS_TARGET}/{f}" in w for w in all_words(service)) for f in files)
    declared = set(compose()["secrets"])
    approval_secrets = {s for s in declared if s.startswith(ENV_PREFIX.lower())}
    assert approval_secrets, "the engine's secrets are missing"
    assert approval_secrets <= settings_files, approval_secrets - settings_files


def test_every_secret_a_service_gets_is_used_there() -> None:
    """A service gets only the secrets it reads: the engine's through APPROVAL_SECRETS_DIR,
    the others by a ``_FILE`` variable, their command or their mounted script naming
    /run/secrets/NAME; and every /run/secrets/NAME a service names is one it gets."""
    for name, service in services().items():
        files = set(secret_targets(service))
        words = " ".join(all_words(service))
        words += " ".join(
            p.read_text(encoding="utf-8")
            for p in bind_mounts(service).values()
            if p.is_file() and p.suffix == ".sh"
        )
        named = set(re.findall(rf"{SECRETS_TARGET}/([A-Za-z0-9_.-]+)", words))
        assert named <= files, (name, named - files)
        if SECRETS_DIR_VARIABLE in environment(service):
            continue
        assert files <= named, (name, files - named)


def test_secrets_are_files_kept_out_of_git() -> None:
    """Every secret is a file under deploy/secrets/, whose .gitignore ignores everything but
    itself and the README, and the README names every secret file."""
    ignore = [line.strip() for line in (SECRETS / ".gitignore").read_text().splitlines()]
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*" and set(rules[1:]) == {"!.gitignore", "!README"}, rules
    readme = (SECRETS / "README").read_text(encoding="utf-8")
    for secret, options in compose()["secrets"].items():
        path = (PROJECT_ROOT / options["file"]).resolve()
        assert path.parent == SECRETS.resolve(), f"{secret}: {options['file']}"
        assert path.name in readme, f"{path.name} is not in deploy/secrets/README"


def test_no_secret_value_is_in_the_file() -> None:
    """No password, key or token is written in the compose file or the configuration it mounts:
    secret variables only name files under /run/secrets, no URL carries credentials, the
    engine's secret settings come from files. A file that breaks this is caught."""
    texts = [COMPOSE.read_text(encoding="utf-8")] + [
        p.read_text(encoding="utf-8")
        for s in services().values()
        for p in bind_mounts(s).values()
        if p.is_file()
    ]
    assert secret_values(compose(), "\n".join(texts)) == []
    broken = copy.deepcopy(compose())
    broken["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] = "hunter2"
    broken["services"]["worker"]["environment"]["APPROVAL_AUDIT_KEY"] = "k"
    leaked = "APPROVAL_DATABASE_URL=postgresql+psycopg://approval:hunter2@postgres:5432/approval"
    assert len(secret_values(broken, leaked)) == 3


# ---------------------------------------------------------------------------------------------
# Commands


def check_python(words: list[str], service: str) -> None:
    """``python X.py`` runs a file of the image; ``python -m M`` a module that imports, of the
    project or of its locked runtime dependencies; uvicorn's ``--factory module:attr`` names
    a callable that exists."""
    assert len(words) >= 2, f"{service}: {words}"
    if words[1] == "-c":
        return
    if words[1] != "-m":
        script = words[1]
        assert (PROJECT_ROOT / script).is_file(), f"{service}: {script} does not exist"
        assert in_image(script), f"{service}: {script} is not copied into the image"
        return
    module = words[2]
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"{service}: no module {module}"
    origin = Path(spec.origin).resolve()
    if origin.is_relative_to(PROJECT_ROOT / ".venv") or not origin.is_relative_to(PROJECT_ROOT):
        top = module.partition(".")[0]
        assert normalise(top) in runtime_closure(), f"{service}: {top} is not a dependency"
    else:
        assert in_image(origin.relative_to(PROJECT_ROOT).as_posix()), f"{service}: {module}"
    if "--factory" in words:
        app = next(w for w in words[3:] if ":" in w and not w.startswith("-"))
        module_name, _, attribute = app.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute, None)
        assert callable(factory), f"{service}: {app} is not a factory"
    if module == "alembic":
        config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["alembic"]
        location = config["script_location"].replace("%(here)s", str(PROJECT_ROOT))
        assert (Path(location) / "env.py").is_file(), location
        assert words[-2:] == ["upgrade", "head"], f"{service}: {words}"


def test_every_engine_command_exists_in_the_project() -> None:
    """Each service of the engine's image runs a program of the project: a file copied into
    the image (worker.py), a module that imports (python -m approval.departments.http_service,
    alembic, uvicorn), and uvicorn's factory approval.runtime:api_app."""
    for name, service in engine_services().items():
        programs = commands(service)
        assert programs, f"{name} has no command"
        for words in programs:
            assert words[0] == "python", f"{name}: {words}"
            check_python(words, name)


def test_the_command_check_catches_what_does_not_exist() -> None:
    """The command check fails for a missing file, a missing module, a missing factory and a
    dev tool that is not in the image."""
    for words in (
        ["python", "no_such_worker.py"],
        ["python", "-m", "approval.no_such_module"],
        ["python", "-m", "uvicorn", "--factory", "approval.runtime:no_such_app"],
        ["python", "-m", "pytest"],
    ):
        with pytest.raises(AssertionError):
            check_python(words, "test")


def test_the_services_run_what_the_engine_needs() -> None:
    """N worker replicas run worker.py, N API replicas the uvicorn factory on port 8000, the
    department stub its module, the migration alembic upgrade head."""
    found = services()
    assert commands(found["worker"]) == [["python", "worker.py"]]
    assert int(found["worker"]["deploy"]["replicas"]) >= 1
    api = commands(found["api"])[0]
    assert api[:5] == ["python", "-m", "uvicorn", "--factory", "approval.runtime:api_app"]
    assert int(found["api"]["deploy"]["replicas"]) >= 1
    assert commands(found["departments"])[0][:3] == [
        "python",
        "-m",
        "approval.departments.http_service",
    ]
    (migration,) = commands(found["migrate"])
    assert migration[:3] == ["python", "-m", "alembic"] and migration[-2:] == ["upgrade", "head"]


def test_every_path_a_service_names_under_a_mount_exists() -> None:
    """Every absolute path a service's command, entrypoint or environment names inside one of
    its bind mounts is a file of the repository (the setup scripts, prometheus.yml, Temporal's
    dynamic configuration), and every /run/secrets path is a secret the service gets."""
    for name, service in services().items():
        binds = bind_mounts(service)
        for word in all_words(service):
            for path_text in re.findall(r"(?<![\w.])/[\w./-]+", word):
                path = PurePosixPath(path_text)
                if path == SECRETS_TARGET:
                    continue  # APPROVAL_SECRETS_DIR: the folder itself
                if path.is_relative_to(SECRETS_TARGET):
                    assert path.name in secret_targets(service), f"{name}: {path}"
                    continue
                for target, source in binds.items():
                    if path == target or path.is_relative_to(target):
                        inside = source / path.relative_to(target)
                        assert inside.exists(), f"{name}: {path} → {inside} does not exist"


# ---------------------------------------------------------------------------------------------
# Order of start


def test_every_dependency_is_a_service_with_a_condition() -> None:
    """Every depends_on names a defined service and waits for it to be healthy or to have
    completed; a service waited for as healthy has a health check, and the dependencies have
    no cycle (the services start in order)."""
    found = services()
    for name, service in found.items():
        for dependency, options in dependencies(service).items():
            assert dependency in found, f"{name} depends on unknown {dependency}"
            condition = options.get("condition")
            assert condition in ("service_healthy", "service_completed_successfully"), (
                f"{name} → {dependency}: {condition}"
            )
            if condition == "service_healthy":
                assert "healthcheck" in found[dependency], f"{dependency} has no health check"
    order: list[str] = []
    pending = dict(found)
    while pending:
        ready = [n for n, s in pending.items() if set(dependencies(s)) <= set(order)]
        assert ready, f"dependency cycle among {sorted(pending)}"
        order += sorted(ready)
        for n in ready:
            del pending[n]


def test_every_long_running_service_has_a_health_check() -> None:
    """The services nothing waits for to complete run for good: each has a health check and
    restarts unless stopped; the one-shot jobs do not restart."""
    jobs = one_shots()
    assert {"migrate", "temporal-schema", "temporal-setup"} <= jobs
    for name, service in services().items():
        if name in jobs:
            assert service.get("restart") == "no", f'{name} is a job: restart "no"'
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert check["test"] != ["NONE"], name
        assert service.get("restart") in ("unless-stopped", "always"), name


def test_the_engine_starts_after_its_database_schema_and_namespace() -> None:
    """The workers and the API wait for the store's migrations and for the namespace and search
    attributes; Temporal waits for its schema; the schema jobs wait for PostgreSQL."""
    found = services()
    for name in ("worker", "api"):
        depends = dependencies(found[name])
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["temporal-setup"]["condition"] == "service_completed_successfully"
    assert dependencies(found["worker"])["departments"]["condition"] == "service_healthy"
    assert dependencies(found["temporal"])["temporal-schema"]["condition"] == (
        "service_completed_successfully"
    )
    assert dependencies(found["temporal-setup"])["temporal"]["condition"] == "service_healthy"
    for job in ("migrate", "temporal-schema"):
        assert dependencies(found[job])["postgres"]["condition"] == "service_healthy"


# ---------------------------------------------------------------------------------------------
# Volumes, secrets, bind mounts


def test_named_volumes_and_secrets_are_declared_and_used() -> None:
    """Every named volume and secret a service uses is declared at the top level, and every
    declared one is used by some service."""
    doc = compose()
    used_volumes = {
        source for s in services().values() for kind, source, _ in mounts(s) if kind == "volume"
    }
    used_volumes.discard("")
    assert used_volumes == set(doc.get("volumes") or {}), used_volumes ^ set(doc["volumes"])
    used_secrets = {source for s in services().values() for source in secret_targets(s).values()}
    assert used_secrets == set(doc.get("secrets") or {}), used_secrets ^ set(doc["secrets"])


def test_every_bind_mounted_file_exists_in_the_repository() -> None:
    """Every path of this machine a service mounts is a file or folder of the repository,
    given relative to it (no path of one machine in the file), mounted read-only."""
    for name, service in services().items():
        for kind, source, target in mounts(service):
            if kind != "bind":
                continue
            assert source.startswith("./"), f"{name}: {source} is not relative to the repository"
            path = (PROJECT_ROOT / source).resolve()
            assert path.is_relative_to(PROJECT_ROOT), f"{name}: {source} leaves the repository"
            assert path.exists(), f"{name}: {source} does not exist"
            line = next(v for v in service["volumes"] if isinstance(v, str) and target in v)
            assert line.endswith(":ro"), f"{name}: {line} should be read-only"


# ---------------------------------------------------------------------------------------------
# Ports and addresses


def test_no_two_services_publish_the_same_host_port() -> None:
    """Every published host port belongs to one service, and the replicated services (workers,
    APIs) publish none: their replicas could not share it."""
    seen: dict[int, str] = {}
    for name, service in services().items():
        for _, host_port, _ in published(service):
            assert host_port not in seen, f"{name} and {seen[host_port]} publish {host_port}"
            seen[host_port] = name
        if "replicas" in service.get("deploy", {}):
            assert not published(service), f"{name} is replicated and publishes a port"
    assert seen, "nothing is published"


def test_every_service_exposes_the_ports_it_listens_on() -> None:
    """The ports a service's process is configured to listen on (``--port``, the worker's
    metrics address, Temporal's metrics endpoint) are the ones it exposes; for the engine's
    services exactly those; every port a health check calls is one of them."""
    for name, service in services().items():
        ports = exposed(service)
        assert listening(service) <= ports, (name, listening(service), ports)
        if name in engine_services() and listening(service):
            assert ports == listening(service), (name, ports, listening(service))
        test = " ".join(argv(service.get("healthcheck", {}).get("test")))
        for found in re.finditer(r"(?:127\.0\.0\.1|localhost)[: ](\d{2,5})\b", test):
            assert int(found[1]) in ports, f"{name}: its health check calls port {found[1]}"


def test_every_internal_address_names_a_service_that_listens_there() -> None:
    """Every ``service:port`` a service is given (APPROVAL_TEMPORAL_ADDRESS,
    APPROVAL_DEPARTMENTS_URL, APPROVAL_API_URL, TEMPORAL_ADDRESS …), the proxy's upstream and
    Grafana's data source name a service of the file and a port it exposes."""
    found = services()
    texts = [" ".join(all_words(s)) for s in found.values()]
    texts.append(NGINX.read_text(encoding="utf-8"))
    texts += [json.dumps(p) for p in provisioned("datasources")]
    seen = set()
    for text in texts:
        for host, port in addresses(text):
            if host in ("http", "https", "postgresql"):
                continue
            assert host in found, f"{host}:{port} names no service"
            assert port in exposed(found[host]), f"{host} does not expose {port}"
            seen.add(host)
    assert {"temporal", "departments", "api", "prometheus"} <= seen


def scrape_targets() -> dict[str, list[tuple[str, int]]]:
    """Prometheus's jobs and the (service, port) each scrapes."""
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    jobs: dict[str, list[tuple[str, int]]] = {}
    for job in config["scrape_configs"]:
        targets = jobs.setdefault(job["job_name"], [])
        for dns in job.get("dns_sd_configs", []):
            targets += [(name, int(dns["port"])) for name in dns["names"]]
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, _, port = target.rpartition(":")
                targets.append((host, int(port)))
    return jobs


def test_prometheus_scrapes_the_workers_and_the_apis_where_they_listen() -> None:
    """Every Prometheus target names a service and a port it exposes; the workers are scraped at
    their metrics address's port, the APIs at the port uvicorn listens on."""
    found = services()
    jobs = scrape_targets()
    for job, targets in jobs.items():
        assert targets, f"job {job} scrapes nothing"
        for service, port in targets:
            assert service in found, f"job {job}: no service {service}"
            assert port in exposed(found[service]), f"job {job}: {service} does not expose {port}"
    scraped = {target for targets in jobs.values() for target in targets}
    metrics_address = str(environment(found["worker"])["APPROVAL_WORKER_METRICS_ADDRESS"])
    metrics_port = int(metrics_address.rsplit(":", 1)[1])
    assert ("worker", metrics_port) in scraped
    assert ("api", next(iter(listening(found["api"])))) in scraped


# ---------------------------------------------------------------------------------------------
# Temporal's setup


def test_the_setup_service_registers_exactly_the_case_search_attributes() -> None:
    """The setup service's script creates exactly the case's custom search attributes, with
    their types, as ``temporal operator search-attribute create`` on the engine's namespace;
    they are those of approval/search_attributes.py."""
    setup = services()["temporal-setup"]
    assert setup["image"].startswith("temporalio/admin-tools:")
    script = script_of(setup).read_text(encoding="utf-8")
    assert re.search(
        r'temporal operator search-attribute create --namespace "\$namespace" \\\s*'
        r'--name "\$1" --type "\$2"',
        script,
    ), "attribute() does not run temporal operator search-attribute create"
    created = dict(re.findall(r"^attribute (\w+) (\w+)$", script, re.MULTILINE))
    assert created == SEARCH_ATTRIBUTES
    assert created == search_attributes.definitions()
    namespace = environment(setup)["TEMPORAL_NAMESPACE"]
    for name, service in engine_services().items():
        configured = environment(service).get("APPROVAL_TEMPORAL_NAMESPACE")
        assert configured in (None, namespace), f"{name} uses namespace {configured}"


def test_the_setup_tolerates_what_exists_already() -> None:
    """Running the setup again changes nothing and fails on nothing: an existing namespace is
    described, not created again; an attribute that exists is accepted, one with another
    type is an error."""
    script = script_of(services()["temporal-setup"]).read_text(encoding="utf-8")
    assert "temporal operator namespace describe" in script
    assert re.search(r'\*"already exists"\*\)\s*\n\s*echo[^\n]*\n\s*return 0', script)
    assert re.search(r'\*"different type"\*\)\s*\n\s*echo[^\n]*\n\s*return 1', script)


def test_temporal_runs_on_postgresql_with_its_schema_set_up() -> None:
    """Temporal's official images: the server on PostgreSQL (postgres12), its schema set up by
    temporal-sql-tool of the admin-tools image at the same version, in the databases the
    PostgreSQL init script creates."""
    found = services()
    server, schema = found["temporal"], found["temporal-schema"]
    assert server["image"].startswith("temporalio/server:")
    assert schema["image"] == server["image"].replace("/server:", "/admin-tools:")
    assert environment(server)["DB"] == "postgres12"
    script = script_of(schema).read_text(encoding="utf-8")
    assert "setup-schema" in script and "update-schema" in script
    init = bind_mounts(found["postgres"])
    (init_script,) = [p for t, p in init.items() if str(t).startswith("/docker-entrypoint-initdb")]
    created = set(re.findall(r"CREATE DATABASE (\w+)", init_script.read_text(encoding="utf-8")))
    databases = {environment(server)["DBNAME"], environment(server)["VISIBILITY_DBNAME"]}
    assert databases <= created
    assert databases <= set(re.findall(r"\b(temporal(?:_visibility)?)\b", script))


# ---------------------------------------------------------------------------------------------
# Grafana


def test_the_dashboard_has_a_promql_query_in_every_panel() -> None:
    """Every provisioned dashboard is JSON whose every panel queries Prometheus (a target with
    an expression, brackets balanced) through a provisioned data source, and together they show
    every figure the engine exports for it."""
    uids = {d["uid"] for f in provisioned("datasources") for d in f["datasources"]}
    found = dashboards()
    assert found, "no dashboard"
    metrics: set[str] = set()
    for dashboard in found:
        for panel in panels(dashboard):
            targets = panel.get("targets", [])
            assert targets, f"panel {panel.get('title')} has no target"
            for target in targets:
                expression = target.get("expr", "")
                assert expression.strip(), f"panel {panel.get('title')}: empty query"
                for opening, closing in ("()", "[]", "{}"):
                    assert expression.count(opening) == expression.count(closing), expression
                assert expression.count('"') % 2 == 0, expression
                source = target.get("datasource") or panel.get("datasource")
                assert source and source["uid"] in uids, f"{panel.get('title')}: {source}"
                metrics |= promql_metrics(expression)
    assert not DASHBOARD_METRICS - metrics, sorted(DASHBOARD_METRICS - metrics)


def test_grafana_is_provisioned_from_the_mounted_folders() -> None:
    """Grafana's dashboard provider reads the folder the compose file mounts the dashboards
    at, and its data source is the Prometheus service."""
    grafana = services()["grafana"]
    targets = {str(t): p for t, p in bind_mounts(grafana).items()}
    assert targets["/etc/grafana/provisioning"] == PROVISIONING.resolve()
    for provider_file in provisioned("dashboards"):
        for provider in provider_file["providers"]:
            assert targets[provider["options"]["path"]] == DASHBOARDS.resolve()
    (source,) = [d for f in provisioned("datasources") for d in f["datasources"]]
    assert urlsplit(source["url"]).hostname == "prometheus"
    assert environment(grafana)["GF_SECURITY_ADMIN_PASSWORD__FILE"] == (
        f"{SECRETS_TARGET}/grafana_admin_password"
    )
