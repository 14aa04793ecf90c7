"""docker-compose.yml and the Dockerfiles cannot run here (no Docker engine);
these checks keep them consistent with the code they deploy."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def console_scripts() -> dict[str, str]:
    out = {}
    for pyproject in ROOT.glob("**/pyproject.toml"):
        if ".venv" in pyproject.parts:
            continue
        data = tomllib.loads(pyproject.read_text())
        for name in data.get("project", {}).get("scripts", {}):
            out[name] = str(pyproject.parent.relative_to(ROOT))
    return out


def test_every_service_folder_has_a_dockerfile_used_by_compose() -> None:
    dockerfiles = {s["build"]["dockerfile"] for s in COMPOSE["services"].values() if "build" in s}
    for folder in ["gateway", "sandboxes", *[str(p.relative_to(ROOT)) for p in (ROOT / "services").iterdir() if p.is_dir()]]:
        assert f"{folder}/Dockerfile" in dockerfiles, f"{folder} has no Dockerfile in docker-compose.yml"
        assert (ROOT / folder / "Dockerfile").exists()


def test_dockerfiles_copy_what_they_install_and_run_a_real_entry_point() -> None:
    scripts = console_scripts()
    for dockerfile in ROOT.glob("**/Dockerfile"):
        text = dockerfile.read_text()
        copied = set(re.findall(r"^COPY (\S+) \1$", text, re.M))
        installed = re.findall(r"\./([\w\-/]+)", text.split("pip install --no-cache-dir --no-build-isolation", 1)[1])
        for path in installed:
            assert path in copied, f"{dockerfile}: installs ./{path} without copying it"
            assert (ROOT / path / "pyproject.toml").exists()
        cmd = re.search(r'^CMD \["([\w\-]+)"', text, re.M)
        assert cmd and cmd.group(1) in scripts, f"{dockerfile}: CMD is not a console script of the project"
        assert scripts[cmd.group(1)] in installed, f"{dockerfile}: runs {cmd.group(1)} without installing it"


def test_compose_uses_the_real_mongo_image_and_wires_services_by_name() -> None:
    services = COMPOSE["services"]
    assert services["mongo"]["image"].startswith("mongo:")
    profile = services["profile"]["environment"]
    assert profile["MONGODB_URI"].startswith("mongodb://mongo:")
    for entry in profile["LINKMESH_CONNECTORS"].split(","):
        kind, _, target = entry.partition("=")
        host, _, port = target.partition(":")
        assert host in services and services[host]["environment"]["CONNECTOR_PORT"] == port
    assert services["gateway"]["environment"]["GATEWAY_PROFILE_ADDR"] == f"profile:{profile['PROFILE_PORT']}"


def test_compose_environment_names_exist_in_the_settings() -> None:
    from linkmesh_core.connector import ConnectorSettings
    from linkmesh_gateway.config import Settings as GatewaySettings
    from linkmesh_profile.config import Settings as ProfileSettings

    def names(cls) -> set[str]:  # type: ignore[no-untyped-def]
        prefix = cls.model_config.get("env_prefix", "")
        out = set()
        for field, info in cls.model_fields.items():
            alias = info.validation_alias
            out |= set(getattr(alias, "choices", [])) if alias is not None else {f"{prefix}{field}".upper()}
        return out

    known = names(ConnectorSettings) | names(GatewaySettings) | names(ProfileSettings) | {"SANDBOX_HOST", "SANDBOX_PORT"}
    for service in COMPOSE["services"].values():
        for key in (service.get("environment") or {}):
            assert key in known, f"docker-compose.yml sets {key}, which no service reads"
