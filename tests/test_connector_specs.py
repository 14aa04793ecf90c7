"""A connector declares itself once (``linkmesh.connectors``), and what runs, tests or deploys
connectors follows: the Makefile's list, the installed specs, the folders, the sandbox
runner, the deployment files (``make deploy-files``) with a connector added and removed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from linkmesh_core.connector_spec import ENTRY_POINT_GROUP, ConnectorSpec, discover
from linkmesh_devstack import deployfiles
from linkmesh_sandboxes.__main__ import sandboxes

ROOT = Path(__file__).resolve().parents[1]
KUBECTL = Path(sys.executable).parent / "kubectl"
SPECS = list(discover().values())


def makefile_connectors() -> list[str]:
    return re.findall(r"^CONNECTORS \+= (\S+)$", (ROOT / "Makefile").read_text(), re.M)


def test_every_connector_folder_is_in_the_makefile_and_declares_itself_once() -> None:
    folders = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "services").glob("connector-*") if p.is_dir())
    assert sorted(makefile_connectors()) == folders
    assert sorted(f"services/{s.name}" for s in SPECS) == folders, "every installed connector is one of the Makefile's"
    for spec in SPECS:
        project = tomllib.loads((ROOT / "services" / spec.name / "pyproject.toml").read_text())["project"]
        assert project["entry-points"][ENTRY_POINT_GROUP] == {spec.type: f"{spec.module}.spec:SPEC"}
        assert spec.command in project["scripts"], f"{spec.name}: the image runs {spec.command}"
        assert (ROOT / "services" / spec.name / "src" / spec.module / "__main__.py").exists()


def test_every_declared_sandbox_gives_a_demo_app_with_its_secrets() -> None:
    known = sandboxes()
    for spec in SPECS:
        if not spec.sandbox:
            continue
        app = known[spec.type].demo_app("http://127.0.0.1:1")
        assert app["type"] == spec.type and app["secrets"] and all(len(v) >= 8 for v in app["secrets"].values())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"type": "Shop-ify"}, "lower-case"),
        ({"port": 80}, "1024-65535"),
        ({"sandbox": "no_colon"}, "module:object"),
    ],
)
def test_a_bad_declaration_is_refused_naming_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "type": "acme",
        "display_name": "Acme",
        "module": "linkmesh_acme",
        "command": "linkmesh-connector-acme",
        "port": 50099,
        "sandbox": "",
        "sandbox_port": 0,
    }
    with pytest.raises(ValueError, match=message):
        ConnectorSpec(**{**base, **kwargs})  # type: ignore[arg-type]


def test_the_deployment_files_are_those_the_declarations_give() -> None:
    late = deployfiles.stale(ROOT, SPECS)
    assert not late, f"stale: {[str(p.relative_to(ROOT)) for p in late]}; run make deploy-files"


COMPOSE_FILES = ("docker-compose.yml", "docker-compose.mtls.yml", "docker-compose.sandboxes.yml")


def copy_deploy_files(tmp: Path) -> Path:
    for name in COMPOSE_FILES:
        shutil.copy(ROOT / name, tmp / name)
    shutil.copytree(ROOT / "deploy" / "kubernetes", tmp / "deploy" / "kubernetes")
    return tmp


def kustomize(root: Path, overlay: str) -> list[dict[str, object]]:
    out = subprocess.run(
        [str(KUBECTL), "kustomize", str(root / "deploy" / "kubernetes" / "overlays" / overlay)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def test_a_new_connector_reaches_compose_and_kubernetes_and_a_removed_one_leaves(tmp_path: Path) -> None:
    root = copy_deploy_files(tmp_path)
    acme = ConnectorSpec(type="acme_shop", display_name="Acme", module="linkmesh_acme", command="linkmesh-connector-acme-shop", port=50099)
    with_acme = [*SPECS, acme]
    assert deployfiles.stale(root, with_acme), "a new connector makes the files stale"
    deployfiles.write(root, with_acme)
    assert not deployfiles.stale(root, with_acme)

    compose = yaml.safe_load((root / "docker-compose.yml").read_text().replace("${", "$${"))
    service = compose["services"]["connector-acme-shop"]
    assert service["build"]["args"]["SERVICE_DIR"] == "services/connector-acme-shop" and service["environment"]["CONNECTOR_PORT"] == "50099"
    assert "acme_shop=connector-acme-shop:50099" in compose["services"]["profile"]["environment"]["LINKMESH_CONNECTORS"]
    assert "connector-acme-shop" in compose["services"]["profile"]["depends_on"]
    assert "sandbox-acme-shop" not in compose["services"], "it declared no sandbox"
    mtls = yaml.safe_load((root / "docker-compose.mtls.yml").read_text())
    assert {"source": "connector-acme-shop-cert", "target": "tls-cert"} in mtls["services"]["connector-acme-shop"]["secrets"]

    for overlay in ("dev", "production"):
        objects = kustomize(root, overlay)
        names = {(o["kind"], o["metadata"]["name"]) for o in objects}  # type: ignore[index]
        assert {
            ("Deployment", "connector-acme-shop"),
            ("Service", "connector-acme-shop"),
            ("HorizontalPodAutoscaler", "connector-acme-shop"),
            ("PodDisruptionBudget", "connector-acme-shop"),
        } <= names
        deployment = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "connector-acme-shop")  # type: ignore[index]
        container = deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
        config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("linkmesh-config"))  # type: ignore[index]
        assert "acme_shop=dns:///connector-acme-shop:50099" in config["data"]["LINKMESH_CONNECTORS"]  # type: ignore[index]
        policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NetworkPolicy"}  # type: ignore[index]
        assert {"protocol": "TCP", "port": 50099} in policies["connectors"]["spec"]["ingress"][0]["ports"]  # type: ignore[index]
        assert {"protocol": "TCP", "port": 50099} in policies["profile"]["spec"]["egress"][0]["ports"]  # type: ignore[index]
        if overlay == "production":
            assert container["image"] == "registry.example.com/linkmesh/connector-acme-shop:1.0.0"
            assert {"name": "LINKMESH_TLS_ALLOWED_CLIENTS", "value": "profile"} in container["env"]
        else:
            assert container["image"] == "linkmesh-connector-acme-shop:dev"

    deployfiles.write(root, SPECS)  # and gone again
    assert not (root / "deploy/kubernetes/base/connector-acme-shop.yaml").exists()
    for name in COMPOSE_FILES:
        assert (root / name).read_text() == (ROOT / name).read_text()
    assert not any("acme" in str(o) for o in kustomize(root, "production"))


def test_a_hand_edit_inside_a_generated_part_is_reported(tmp_path: Path) -> None:
    root = copy_deploy_files(tmp_path)
    config = root / "deploy/kubernetes/base/config.yaml"
    config.write_text(config.read_text().replace("magento=dns:///connector-magento:50062,", ""))
    assert deployfiles.stale(root, SPECS) == [config]
    out = subprocess.run(
        [sys.executable, "-m", "linkmesh_devstack.deployfiles", "--check", "--root", str(root)], capture_output=True, text=True
    )
    assert out.returncode == 1 and "stale: deploy/kubernetes/base/config.yaml" in out.stdout
    marker = root / "deploy/kubernetes/overlays/dev/kustomization.yaml"
    marker.write_text(marker.read_text().replace("# <<< generated: connector-images", ""))
    with pytest.raises(ValueError, match="connector-images"):
        deployfiles.stale(root, SPECS)
