"""The Kubernetes manifests (``deploy/kubernetes``), checked without a cluster: every
overlay rendered by kubectl's own kustomize, every object validated against the
Kubernetes schemas (kubernetes-validate, strict), and the deployment checked against
docker-compose.yml and the code: ports, probes, pod security, budgets, autoscaling,
network reachability, the replica set, the secrets and gRPC balancing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from linkmesh_profile.config import parse_connectors
from tests.test_containers import BUILT, build, listen_port

ROOT = Path(__file__).resolve().parents[1]
KUBECTL = Path(sys.executable).parent / "kubectl"
OVERLAYS = ["dev", "production"]
SERVICES = sorted(n for n in BUILT if not n.startswith("sandbox-"))  # the sandboxes are for local stacks only
GRPC = [n for n in SERVICES if n != "gateway"]
KUBERNETES_VERSION = "1.30.0"  # the oldest release the manifests promise to run on (native gRPC probes are GA since 1.27)


def render(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(KUBECTL), "kustomize", str(ROOT / "deploy" / "kubernetes" / "overlays" / overlay)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


RENDERED = {overlay: render(overlay) for overlay in OVERLAYS}


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} objects"
    return matches[0]


def container(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def compose_port(name: str) -> int:
    service = BUILT[name]
    return int(listen_port(service, build({k: str(v) for k, v in service["build"]["args"].items()})))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_against_the_kubernetes_schemas(overlay: str) -> None:
    for obj in RENDERED[overlay]:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        assert obj["metadata"].get("namespace") or obj["kind"] == "Namespace", f"{obj['kind']}/{obj['metadata']['name']} has no namespace"
    broken = {**find(RENDERED[overlay], "Service", "profile"), "spec": {"ports": [{"port": "fifty"}]}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_its_deployment_service_budget_and_autoscaler_on_the_compose_port(overlay: str, name: str) -> None:
    objects = RENDERED[overlay]
    port = compose_port(name)
    c = container(objects, name)
    assert {p["name"]: p["containerPort"] for p in c["ports"]}["service"] == port
    env = {e["name"]: e.get("value") for e in c["env"]}
    port_env = build({k: str(v) for k, v in BUILT[name]["build"]["args"].items()}).env["LINKMESH_PORT_ENV"]
    assert env[port_env] == str(port), "the container listens where its Service and probes point"
    if name in GRPC and overlay == "production":  # mutual TLS: probed by the image's health check, which presents a certificate
        assert (
            c["readinessProbe"]["exec"]["command"] == c["livenessProbe"]["exec"]["command"] == ["python", "-m", "linkmesh_core.healthcheck"]
        )
    elif name in GRPC:
        assert c["readinessProbe"]["grpc"]["port"] == port and c["livenessProbe"]["grpc"]["port"] == port
    else:
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz" and c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    resources = c["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"] and resources["limits"]["cpu"] and resources["limits"]["memory"]
    service = find(objects, "Service", name)
    assert [p["port"] for p in service["spec"]["ports"]] == [port] and service["spec"]["ports"][0]["targetPort"] == "service"
    if name in GRPC:
        assert service["spec"]["clusterIP"] == "None", "headless: the name resolves to every replica for round-robin"
    labels = find(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert find(objects, "PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = find(objects, "HorizontalPodAutoscaler", name)["spec"]
    assert (
        hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name} and hpa["maxReplicas"] > hpa["minReplicas"]
    )
    if overlay == "production":
        assert hpa["minReplicas"] >= 2 and find(objects, "PodDisruptionBudget", name)["spec"]["minAvailable"] >= 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_unprivileged_on_a_read_only_root_filesystem(overlay: str) -> None:
    for obj in RENDERED[overlay]:
        spec = {
            "Deployment": lambda o: o["spec"]["template"]["spec"],
            "StatefulSet": lambda o: o["spec"]["template"]["spec"],
            "Job": lambda o: o["spec"]["template"]["spec"],
        }.get(obj["kind"])
        if spec is None:
            continue
        pod = spec(obj)
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for c in pod["containers"]:
            ctx = c["securityContext"]
            assert (
                ctx["readOnlyRootFilesystem"] is True
                and ctx["allowPrivilegeEscalation"] is False
                and ctx["capabilities"]["drop"] == ["ALL"]
            )
            assert c["resources"]["limits"], f"{obj['metadata']['name']}: no limits"


def reaches(objects: list[dict[str, Any]], source: dict[str, str] | None, target: dict[str, str], port: int) -> bool:
    """Whether the NetworkPolicies let a pod labelled ``source`` (same namespace; None: a client
    outside it) open ``port`` on a pod labelled ``target``: the target's ingress and the
    source's egress must both allow it."""

    def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
        ok = selector.get("matchLabels", {}).items() <= labels.items()
        for expr in selector.get("matchExpressions", []):
            ok = ok and (labels.get(expr["key"]) in expr["values"]) == (expr["operator"] == "In")
        return ok

    def allowed(rules: list[dict[str, Any]], peer_key: str, peer: dict[str, str] | None) -> bool:
        for rule in rules:
            ports = [p["port"] for p in rule.get("ports", [])]
            peers = rule.get(peer_key)
            if ports and port not in ports:
                continue
            if peers is None or (
                peer is not None
                and any("podSelector" in p and "namespaceSelector" not in p and selects(p["podSelector"], peer) for p in peers)
            ):
                return True
        return False

    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    ingress = [p for p in policies if "Ingress" in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], target)]
    egress = [
        p for p in policies if source is not None and "Egress" in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], source)
    ]
    return (not ingress or any(allowed(p["spec"].get("ingress", []), "from", source) for p in ingress)) and (
        not egress or any(allowed(p["spec"].get("egress", []), "to", target) for p in egress)
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_only_the_expected_callers_through(overlay: str) -> None:
    objects = RENDERED[overlay]

    def pod(name: str) -> dict[str, str]:
        kind = "StatefulSet" if name == "mongo" else "Deployment"
        return find(objects, kind, name)["spec"]["template"]["metadata"]["labels"]

    outsider = None  # an ingress controller or any client outside the namespace
    connectors = [n for n in SERVICES if n.startswith("connector-")]
    assert reaches(objects, outsider, pod("gateway"), 8080)
    assert reaches(objects, pod("gateway"), pod("profile"), 50051)
    assert not reaches(objects, outsider, pod("profile"), 50051)
    for c in connectors:
        assert reaches(objects, pod("profile"), pod(c), compose_port(c))
        assert not reaches(objects, pod("gateway"), pod(c), compose_port(c)), f"only the profile service reaches {c}"
        assert not reaches(objects, outsider, pod(c), compose_port(c))
        assert reaches(objects, pod(c), pod("mongo"), 27017), "the vendor budgets every replica shares live in MongoDB"
        assert not reaches(objects, pod(c), pod("profile"), 50051)
    assert reaches(objects, pod("profile"), pod("mongo"), 27017)
    assert reaches(objects, pod("mongo"), pod("mongo"), 27017), "replica set members reach each other"
    assert not reaches(objects, pod("gateway"), pod("mongo"), 27017), "the gateway must not reach MongoDB"
    assert not reaches(objects, outsider, pod("mongo"), 27017)
    internet = [r for p in objects if p["kind"] == "NetworkPolicy" and p["metadata"]["name"] == "connectors" for r in p["spec"]["egress"]]
    assert any(peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for r in internet for peer in r["to"]), "connectors reach the vendors"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_connector_replicas_share_vendor_budgets_and_know_their_share(overlay: str) -> None:
    """Every connector reaches the shared budgets (MONGODB_URI), and should MongoDB fail, keeps to
    1/CONNECTOR_REPLICAS_MAX of a vendor's limits: at least as many as the autoscaler may run."""
    objects = RENDERED[overlay]
    config = find(objects, "ConfigMap", "linkmesh-config")["data"]
    for name in (n for n in SERVICES if n.startswith("connector-")):
        env = {e["name"]: e for e in container(objects, name)["env"]}
        assert env["MONGODB_HOSTS"]["valueFrom"]["configMapKeyRef"]["key"] == "MONGODB_HOSTS" and "MONGODB_HOSTS" in config
        assert "$(MONGODB_HOSTS)" in env["MONGODB_URI"]["value"]
        hpa = find(objects, "HorizontalPodAutoscaler", name)["spec"]
        assert int(env["CONNECTOR_REPLICAS_MAX"]["value"]) >= hpa["maxReplicas"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gateway_replicas_know_their_share_of_each_callers_rate_limit(overlay: str) -> None:
    objects = RENDERED[overlay]
    env = {e["name"]: e for e in container(objects, "gateway")["env"]}
    assert int(env["GATEWAY_REPLICAS_MAX"]["value"]) >= find(objects, "HorizontalPodAutoscaler", "gateway")["spec"]["maxReplicas"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_mongodb_is_a_replica_set_the_services_name(overlay: str) -> None:
    objects = RENDERED[overlay]
    mongo = find(objects, "StatefulSet", "mongo")
    members = mongo["spec"]["replicas"]
    assert find(objects, "Service", "mongo")["spec"]["clusterIP"] == "None" and mongo["spec"]["serviceName"] == "mongo"
    server = mongo["spec"]["template"]["spec"]["containers"][0]
    assert (
        server["command"] == ["bash", "/scripts/start.sh"]
        and "--replSet rs0" in (ROOT / "deploy/kubernetes/base/mongo/start.sh").read_text()
    )
    assert {e["name"]: e.get("value") for e in server["env"]}["MONGO_MEMBERS"] == str(members), "init.js initiates the set with them"
    config = find(objects, "ConfigMap", "linkmesh-config")["data"]
    assert "replicaSet=rs0" in config["MONGODB_OPTIONS"] and config["MONGODB_HOSTS"].count("mongo-") == members
    assert not [o for o in objects if o["kind"] == "Job"], "the first member sets the replica set up itself"
    assert members == (3 if overlay == "production" else 1)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_and_config_the_pods_read_exist_and_name_every_connector(overlay: str) -> None:
    objects = RENDERED[overlay]
    config = find(objects, "ConfigMap", "linkmesh-config")["data"]
    secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
    for name in SERVICES:
        for env in container(objects, name)["env"]:
            ref = env.get("valueFrom", {})
            if "configMapKeyRef" in ref:
                assert ref["configMapKeyRef"]["key"] in config
            if "secretKeyRef" in ref:
                if overlay == "production":  # created by the operator (docs/operations.md, "Deploy on Kubernetes"), never committed
                    assert ref["secretKeyRef"]["name"] in ("linkmesh-secrets", "linkmesh-database") and not secrets
                else:
                    assert ref["secretKeyRef"]["key"] in secrets[ref["secretKeyRef"]["name"]]["data"]
    targets = parse_connectors(config["LINKMESH_CONNECTORS"])
    assert sorted(k.replace("_", "-") for k in targets) == sorted(
        n.removeprefix("connector-") for n in SERVICES if n.startswith("connector-")
    )
    for kind, target in targets.items():
        host = f"connector-{kind.replace('_', '-')}"  # a connector type's service: DNS names have no underscore
        assert target == f"dns:///{host}:{compose_port(host)}", "dns resolver: every replica's address"
    assert config["GATEWAY_PROFILE_ADDR"] == f"dns:///profile:{compose_port('profile')}"


def test_grpc_channels_to_a_dns_target_balance_round_robin_over_every_address() -> None:
    import json

    from linkmesh_core.channels import service_config

    assert json.loads(service_config("dns:///connector-magento:50062"))["loadBalancingConfig"] == [{"round_robin": {}}]
    assert "loadBalancingConfig" not in json.loads(service_config("127.0.0.1:50062")), "one server: pick_first reconnects on the next call"
    assert json.loads(service_config("dns:///profile:50051"))["methodConfig"] == json.loads(service_config("profile:50051"))["methodConfig"]


@pytest.mark.parametrize("name", SERVICES)
def test_production_runs_grpc_over_mutual_tls_with_each_services_own_certificate(name: str) -> None:
    """Each pod mounts its own Secret (cert-manager's keys) at the paths LINKMESH_TLS_* name, and
    answers only its callers: the profile service the gateway, a connector the profile service."""
    c = container(RENDERED["production"], name)
    pod = find(RENDERED["production"], "Deployment", name)["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    mount = next(m for m in c["volumeMounts"] if m["name"] == "tls")
    volume = next(v for v in pod["volumes"] if v["name"] == "tls")
    assert volume["secret"]["secretName"] == f"linkmesh-tls-{name}" and mount["readOnly"] is True
    assert volume["secret"]["defaultMode"] & 0o004 == 0, "keys not readable by every user"
    assert {env["LINKMESH_TLS_CERT"], env["LINKMESH_TLS_KEY"], env["LINKMESH_TLS_CA"]} == {
        f"{mount['mountPath']}/{f}" for f in ("tls.crt", "tls.key", "ca.crt")
    }
    expected = {"profile": "gateway"}.get(name, "profile" if name.startswith("connector-") else None)
    assert env.get("LINKMESH_TLS_ALLOWED_CLIENTS") == expected
    assert not [o for o in RENDERED["production"] if o["kind"] == "Secret"], "certificates are never committed"
    dev = {e["name"] for e in container(RENDERED["dev"], name)["env"]}
    assert not {n for n in dev if n.startswith("LINKMESH_TLS_")}, "the dev overlay runs without it"


def test_production_names_its_public_address_and_the_profile_service_refuses_to_start_without_one(monkeypatch: Any) -> None:
    """Issue 34: vendors deliver their change events to the gateway's public address; production
    without one would read every vendor on every open instead, so it does not start."""
    from pydantic import ValidationError

    from linkmesh_profile.config import Settings as ProfileSettings

    required = {"MONGODB_URI": "mongodb://m", "LINKMESH_SECRET_KEYS": "k", "LINKMESH_CONNECTORS": "bigcommerce=h:1"}
    for name, value in required.items():
        monkeypatch.setenv(name, value)
    for overlay in OVERLAYS:
        config = find(RENDERED[overlay], "ConfigMap", "linkmesh-config")["data"]
        env = {e["name"] for e in container(RENDERED[overlay], "profile")["env"]}
        assert {"LINKMESH_ENVIRONMENT", "LINKMESH_PUBLIC_URL"} <= env
        monkeypatch.setenv("LINKMESH_ENVIRONMENT", config["LINKMESH_ENVIRONMENT"])
        monkeypatch.setenv("LINKMESH_PUBLIC_URL", config["LINKMESH_PUBLIC_URL"])
        settings = ProfileSettings()  # type: ignore[call-arg]
        assert settings.environment == ("production" if overlay == "production" else "development")
        assert settings.public_url.startswith("https://") or overlay == "dev"
    monkeypatch.setenv("LINKMESH_ENVIRONMENT", "production")
    for missing in ("", "http://linkmesh.example.com", "linkmesh.example.com"):
        monkeypatch.setenv("LINKMESH_PUBLIC_URL", missing)
        with pytest.raises(ValidationError, match="LINKMESH_PUBLIC_URL|address"):
            ProfileSettings()  # type: ignore[call-arg]
