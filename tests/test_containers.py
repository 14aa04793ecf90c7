"""The images and docker-compose.yml, checked without a Docker engine (none runs here):
the one Dockerfile is read and linted (hadolint), the compose file is validated against
the Compose specification and its wiring checked, and every image's health check is run
against its service started with the environment the image and compose give it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import compose_spec
import pytest
import yaml

from linkmesh_core.connector_spec import discover
from linkmesh_devstack import database_users as dbu
from linkmesh_devstack.mongo import MongoServer, start_mongo
from linkmesh_devstack.ports import free_port
from tests import imageenv

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
BIN = Path(sys.executable).parent
# What an operator must pass (compose refuses to start without them: ${VAR:?message}).
REQUIRED = {
    "LINKMESH_SECRET_KEYS": "ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXM=",
    "LINKMESH_TOKENS": "admin:admin-token-for-tests,agent:agent-token-for-tests",
    "MONGO_ROOT_PASSWORD": "root-password-for-tests",
    **{dbu.password_variable(u): f"{u}-password-for-tests" for u in dbu.users(list(discover().values()))},
}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?error}``, ``${VAR?error}``, ``$$``."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
        value = env.get(name)
        if op in (":-", "-"):
            return value if value is not None and (value != "" or op == "-") else arg
        if op in (":?", "?"):
            if value is None or (op == ":?" and value == ""):
                raise ValueError(f"{name}: {arg}")
            return value
        return value or ""

    return re.sub(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}", one, text).replace("$$", "$")


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``docker compose -f base -f override``: mappings merged key by key, the override winning."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


PRODUCTION: dict[str, Any] = yaml.safe_load(interpolate((ROOT / "docker-compose.yml").read_text(), REQUIRED))
SANDBOXES: dict[str, Any] = yaml.safe_load(interpolate((ROOT / "docker-compose.sandboxes.yml").read_text(), REQUIRED))
# The development setup (base and sandboxes): what most checks below read.
COMPOSE: dict[str, Any] = merged(PRODUCTION, SANDBOXES)
BUILT = {name: s for name, s in COMPOSE["services"].items() if "build" in s}


@dataclass
class Stage:
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Image:
    stages: list[Stage]
    env: dict[str, str]
    expose: list[str]
    user: str
    healthcheck: list[str]
    cmd: list[str]


def instructions(text: str) -> list[tuple[str, str]]:
    out = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def substitute(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values.get(m.group(1) or m.group(2), m.group(0)), text)


def build(args: dict[str, str], path: Path = DOCKERFILE) -> Image:
    """The image ``path`` builds with ``args``: its stages, and the final stage's ENV, EXPOSE,
    USER, HEALTHCHECK and CMD, with ARG and ENV values substituted as BuildKit does."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    scope: dict[str, str] = {}  # the stage's ARG and ENV values, for substitution
    env: dict[str, str] = {}  # the stage's ENV: what the container gets
    for keyword, rest in instructions(path.read_text()):
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            value = args.get(name, global_args.get(name, json.loads(default) if default.startswith('"') else default))
            (scope if stages else global_args)[name] = value
            continue
        if keyword == "FROM":
            stages.append(Stage(substitute(rest.split()[0], global_args)))
            scope, env = {}, {}
            continue
        stages[-1].instructions.append((keyword, rest if keyword in ("RUN", "CMD", "HEALTHCHECK") else substitute(rest, scope)))
        if keyword == "ENV":
            for token in shlex.split(rest):
                name, _, value = token.partition("=")
                name, value = substitute(name, scope), substitute(value, scope)
                scope[name] = env[name] = value
    final = stages[-1]
    health = next(r for kw, r in final.instructions if kw == "HEALTHCHECK")
    return Image(
        stages=stages,
        env=env,
        expose=[r for kw, r in final.instructions if kw == "EXPOSE"],
        user=next(r for kw, r in final.instructions if kw == "USER"),
        healthcheck=json.loads(health.split(" CMD ", 1)[1]),
        cmd=json.loads(next(r for kw, r in final.instructions if kw == "CMD")),
    )


def console_scripts(folder: str) -> set[str]:
    return set(tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"].get("scripts", {}))


def listen_port(service: dict[str, Any], image: Image) -> str:
    port_env = image.env["LINKMESH_PORT_ENV"]
    return str((service.get("environment") or {}).get(port_env, image.env[port_env]))


def test_compose_follows_the_compose_specification() -> None:
    compose_spec.PyCompose.from_json(json.dumps(COMPOSE))
    broken = json.loads(json.dumps(COMPOSE))
    broken["services"]["gateway"]["healthcheck"] = {"test": ["CMD", "true"], "interval": "every so often"}
    with pytest.raises(ValueError):
        compose_spec.PyCompose.from_json(json.dumps(broken))
    for name in REQUIRED:  # compose refuses to start without each one, naming it
        with pytest.raises(ValueError, match=name):
            interpolate((ROOT / "docker-compose.yml").read_text(), {k: v for k, v in REQUIRED.items() if k != name})


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([str(BIN / "hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_recipe_pins_its_base_caches_dependencies_and_runs_unprivileged() -> None:
    image = build({"SERVICE_DIR": "services/profile", "COMMAND": "linkmesh-profile", "PORT_ENV": "PROFILE_PORT", "PORT": "50051"})
    for stage in image.stages:
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", stage.base), f"base image not pinned by digest: {stage.base}"
    build_stage, final = image.stages
    steps = [f"{kw} {rest}" for kw, rest in build_stage.instructions]
    deps = next(i for i, s in enumerate(steps) if s.startswith("RUN") and "-r requirements.txt" in s)
    source = next(i for i, s in enumerate(steps) if s.startswith("COPY libs/core libs/core"))
    assert deps < source, "dependencies are installed before the source is copied, so a code edit reuses that layer"
    for step in steps[:deps]:
        if step.startswith("COPY"):
            assert all(p.endswith(("pyproject.toml", "constraints.txt", "requirements_of.py")) for p in step.split()[1:-1]), step
    assert re.fullmatch(r"\d+(:\d+)?", image.user) and not image.user.startswith("0"), f"USER must be a numeric non-root id: {image.user}"
    assert not [rest for kw, rest in final.instructions if kw == "RUN"], "the final stage installs nothing: no build tools end up in it"
    assert [kw for kw, rest in final.instructions if kw == "COPY"] == ["COPY"] and "--from=build /venv /venv" in next(
        rest for kw, rest in final.instructions if kw == "COPY"
    )


def test_the_dependency_layer_lists_each_service_s_third_party_requirements() -> None:
    sys.path.insert(0, str(DOCKERFILE.parent))
    try:
        from requirements_of import requirements
    finally:
        sys.path.remove(str(DOCKERFILE.parent))
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        profile = requirements(["libs/core", "services/profile"])
        gateway = requirements(["libs/core", "gateway"])
        connector = requirements(["libs/core", "services/connector-bigcommerce"])
    finally:
        os.chdir(old)
    assert "pymongo" in profile and "cryptography" in profile and "grpcio" in profile
    assert not any(r.startswith("linkmesh") for r in profile + gateway) and "pymongo" not in gateway
    # A connector asks libs/core for its "connector" extra: the shared vendor budget's driver.
    assert "pymongo" in connector and "cryptography" in connector and not any(r.startswith("linkmesh") for r in connector)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_every_service_is_built_from_the_one_dockerfile_and_its_ports_agree(name: str) -> None:
    service = BUILT[name]
    assert service["build"]["dockerfile"] == "deploy/docker/Dockerfile" and service["build"]["context"] == "."
    args = {k: str(v) for k, v in service["build"]["args"].items()}
    image = build(args)
    port = listen_port(service, image)
    assert port == args["PORT"] and image.expose == [port], f"{name}: listens on {port}, built for {args['PORT']}, exposes {image.expose}"
    assert image.healthcheck == ["python", "-m", "linkmesh_core.healthcheck"]
    assert image.env["LINKMESH_PORT_ENV"] == args["PORT_ENV"]
    scripts = console_scripts(args["SERVICE_DIR"])
    assert args["COMMAND"] in scripts, f"{name}: {args['COMMAND']} is not a console script of {args['SERVICE_DIR']}"
    if "command" in service:
        assert service["command"][0] in scripts
    for published in service.get("ports", []):
        assert published.rsplit(":", 1)[1] == port, f"{name}: publishes {published}, listens on {port}"


def test_compose_wires_every_service_to_the_port_the_other_listens_on() -> None:
    def port_of(name: str) -> str:
        service = BUILT[name]
        return listen_port(service, build({k: str(v) for k, v in service["build"]["args"].items()}))

    services = COMPOSE["services"]
    assert services["mongo"]["image"].startswith("mongo:")
    profile = services["profile"]["environment"]
    assert "@mongo:27017/" in profile["MONGODB_URI"]
    targets = dict(entry.split("=") for entry in profile["LINKMESH_CONNECTORS"].split(","))
    for kind, target in targets.items():
        host, _, port = target.partition(":")
        assert host == f"connector-{kind.replace('_', '-')}" and port == port_of(host), f"{kind}: {target}"
        assert services["profile"]["depends_on"][host]["condition"] == "service_healthy"
    assert services["gateway"]["environment"]["GATEWAY_PROFILE_ADDR"] == f"profile:{port_of('profile')}"


def test_compose_environment_names_exist_in_the_settings() -> None:
    from linkmesh_core.connector import ConnectorSettings
    from linkmesh_gateway.config import Settings as GatewaySettings
    from linkmesh_profile.config import Settings as ProfileSettings

    def names(cls) -> set[str]:
        prefix = cls.model_config.get("env_prefix", "")
        out = set()
        for field_name, info in cls.model_fields.items():
            alias = info.validation_alias
            out |= set(getattr(alias, "choices", [])) if alias is not None else {f"{prefix}{field_name}".upper()}
        return out

    from linkmesh_core.tls import ENV_NAMES

    known = names(ConnectorSettings) | names(GatewaySettings) | names(ProfileSettings) | {"SANDBOX_HOST", "SANDBOX_PORT", *ENV_NAMES}
    # MongoDB's image reads its MONGO_INITDB_*; linkmesh-users.js, every user's password.
    mongo_reads = {
        "MONGO_INITDB_ROOT_USERNAME",
        "MONGO_INITDB_ROOT_PASSWORD",
        "MONGO_INITDB_DATABASE",
        *(dbu.password_variable(u) for u in dbu.users(list(discover().values()))),
    }
    for name, service in COMPOSE["services"].items():
        for key in service.get("environment") or {}:
            assert key in (mongo_reads if name == "mongo" else known), f"docker-compose.yml sets {key} on {name}, which it does not read"


def mutual_tls_env(name: str, cert_dir: Path) -> dict[str, str]:
    """The LINKMESH_TLS_* docker-compose.mtls.yml gives ``name``, its mounted secrets read from
    ``cert_dir`` (where ``linkmesh_devstack.certs.write`` put them)."""
    from linkmesh_core.tls import ENV_CA, ENV_CERT, ENV_KEY

    override = yaml.safe_load((ROOT / "docker-compose.mtls.yml").read_text())
    env = override["services"][name]["environment"]
    mounted = {
        f"/run/secrets/{secret['target']}": cert_dir / Path(override["secrets"][secret["source"]]["file"]).name
        for secret in override["services"][name]["secrets"]
    }
    return {k: str(mounted[env[k]]) for k in (ENV_CERT, ENV_KEY, ENV_CA)} | {
        "LINKMESH_TLS_ALLOWED_CLIENTS": env.get("LINKMESH_TLS_ALLOWED_CLIENTS", "")
    }


def test_the_mutual_tls_override_gives_every_mesh_service_its_own_certificate(tmp_path: Path) -> None:
    """docker-compose.mtls.yml over docker-compose.yml: every gRPC service and the gateway get the
    files the certificate generator writes, and each server answers only its callers."""
    from linkmesh_core.tls import tls_from
    from linkmesh_devstack import certs

    override = yaml.safe_load((ROOT / "docker-compose.mtls.yml").read_text())
    merged = json.loads(json.dumps(COMPOSE))
    for name, extra in override["services"].items():
        merged["services"][name]["environment"].update(extra["environment"])
        merged["services"][name]["secrets"] = extra["secrets"]
    merged["secrets"] = override["secrets"]
    compose_spec.PyCompose.from_json(json.dumps(merged))
    mesh = {n for n in BUILT if not n.startswith("sandbox-")}
    assert set(override["services"]) == mesh == set(certs.service_names())
    certs.write(tmp_path)
    for name in mesh:
        for secret in override["services"][name]["secrets"]:
            file = override["secrets"][secret["source"]]["file"]
            assert (ROOT / file).parent == ROOT / "deploy" / "tls", file
        tls = tls_from(mutual_tls_env(name, tmp_path))
        assert tls is not None and tls.names[0] == name, f"{name} presents its own certificate"
        expected = {"profile": {"gateway"}}.get(name, {"profile"} if name.startswith("connector-") else set())
        assert tls.allowed_clients == expected, name
    assert "/deploy/tls/" in (ROOT / ".gitignore").read_text(), "the certificates are never committed"


# Each image's own health check, run against its service started as the container would start it.


@pytest.fixture(scope="session")
def image_bin(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The ``bin`` folder of an environment holding what the image of ``name`` holds and
    nothing more (tests/imageenv.py), made once per service folder."""
    made: dict[str, Path] = {}

    def of(name: str) -> Path:
        service_dir = str(BUILT[name]["build"]["args"]["SERVICE_DIR"])
        if service_dir not in made:
            made[service_dir] = imageenv.build(tmp_path_factory.mktemp("image"), service_dir)
        return made[service_dir]

    return of


def container_env(name: str, port: str, bin_dir: Path, mongo_uri: str = "") -> tuple[dict[str, str], list[str]]:
    """The environment and command of ``name``'s container, here: the image's ENV, then
    compose's, with the listen port moved to ``port`` (through the variable both read), and
    the image's own environment (``bin_dir``) first on the PATH, as ``/venv/bin`` is."""
    service = BUILT[name]
    image = build({k: str(v) for k, v in service["build"]["args"].items()})
    # An empty value in compose (``KEY: ${VAR:-}``) is the empty string, as Compose passes it.
    env = {**os.environ, **image.env, **{k: "" if v is None else str(v) for k, v in (service.get("environment") or {}).items()}}
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    env.pop("PYTHONPATH", None)
    env[image.env["LINKMESH_PORT_ENV"]] = port
    env.update(SANDBOX_HOST="127.0.0.1", GATEWAY_HOST="127.0.0.1", CONNECTOR_HOST="127.0.0.1", PROFILE_HOST="127.0.0.1")
    for key in [k for k in env if k.endswith("_METRICS_PORT")]:
        env[key] = "0"
    if mongo_uri:
        env["MONGODB_URI"] = mongo_uri
    env["LINKMESH_CONNECTORS"] = "bigcommerce=127.0.0.1:9"
    command = list(service["command"]) if "command" in service else image.cmd
    return env, command


def healthy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK: ``python`` is the image environment's, first on the PATH."""
    python = shutil.which("python", path=env["PATH"])
    return subprocess.run(
        [python or sys.executable, "-m", "linkmesh_core.healthcheck"], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.fixture()
def started(request: pytest.FixtureRequest) -> Iterator[Any]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], command: list[str], log: Path) -> subprocess.Popen[bytes]:
        handle = log.open("wb")
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until(check: Any, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True or getattr(last, "returncode", None) == 0:
            return
        time.sleep(0.2)
    tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
    raise AssertionError(f"{what}: {getattr(last, 'stderr', last)}\n{tail}")


@pytest.mark.parametrize("name", sorted(n for n in BUILT if n != "profile"))
def test_every_image_becomes_healthy_on_the_port_its_service_listens_on(name: str, started: Any, image_bin: Any, tmp_path: Path) -> None:
    env, command = container_env(name, str(free_port()), image_bin(name))
    assert healthy(env).returncode == 1, "nothing listens yet: the check must fail"
    started(env, command, tmp_path / "service.log")
    wait_until(lambda: healthy(env), 30, f"{name} never became healthy", tmp_path / "service.log")


@pytest.mark.parametrize("name", sorted(n for n in BUILT if n.startswith("connector-")))
def test_every_connector_image_serves_over_mutual_tls(name: str, started: Any, image_bin: Any, tmp_path: Path) -> None:
    """With docker-compose.mtls.yml: the service reads its certificate's names (cryptography)
    and the image's health check presents the service's own certificate."""
    from linkmesh_devstack import certs

    certs.write(tmp_path / "tls")
    env, command = container_env(name, str(free_port()), image_bin(name))
    env.update(mutual_tls_env(name, tmp_path / "tls"))
    started(env, command, tmp_path / "service.log")
    wait_until(lambda: healthy(env), 30, f"{name} never became healthy over mutual TLS", tmp_path / "service.log")


def test_the_profile_image_is_healthy_only_while_mongodb_answers(started: Any, image_bin: Any, tmp_path: Path) -> None:
    mongo: MongoServer = start_mongo(tmp_path / "data", log_dir=tmp_path)
    try:
        if mongo.process is None:
            pytest.skip(f"the MongoDB ({mongo.kind}) is not this test's to stop")
        port = mongo.uri.split(":")[2].split("/")[0]
        env, command = container_env("profile", str(free_port()), image_bin("profile"), mongo.uri)
        env.update(PROFILE_HEALTH_INTERVAL_S="0.2", PROFILE_HEALTH_TIMEOUT_S="0.5", PROFILE_DB_TIMEOUT_S="1")
        log = tmp_path / "profile.log"
        started(env, command, log)
        wait_until(lambda: healthy(env), 60, "the profile service never became healthy", log)
        mongo.stop()
        wait_until(lambda: "NOT_SERVING" in healthy(env).stderr, 30, "the profile service stayed SERVING without MongoDB", log)
        mongo = start_mongo(tmp_path / "data", port=int(port), log_dir=tmp_path)
        wait_until(lambda: healthy(env), 60, "the profile service did not come back to SERVING with MongoDB", log)
    finally:
        mongo.stop()


def test_only_the_sandbox_setup_lets_connectors_reach_private_addresses() -> None:
    connectors = [n for n in PRODUCTION["services"] if n.startswith("connector-")]
    assert connectors
    for name in connectors:
        assert PRODUCTION["services"][name]["environment"]["LINKMESH_ALLOW_PRIVATE_VENDOR_HOSTS"] == "false", name
    assert not any(n.startswith("sandbox-") for n in PRODUCTION["services"]), "the sandboxes are the development setup's"
    allowed = {
        n for n, s in SANDBOXES["services"].items() if (s.get("environment") or {}).get("LINKMESH_ALLOW_PRIVATE_VENDOR_HOSTS") == "true"
    }
    assert allowed == {n for n in connectors if f"sandbox-{n.removeprefix('connector-')}" in SANDBOXES["services"]}


def test_every_write_waits_for_the_journal_and_a_majority() -> None:
    for name, service in PRODUCTION["services"].items():
        uri = (service.get("environment") or {}).get("MONGODB_URI")
        if uri:
            assert "w=majority" in uri and "journal=true" in uri, name
    config = yaml.safe_load((ROOT / "deploy/kubernetes/base/config.yaml").read_text())
    assert "w=majority" in config["data"]["MONGODB_OPTIONS"] and "journal=true" in config["data"]["MONGODB_OPTIONS"]
