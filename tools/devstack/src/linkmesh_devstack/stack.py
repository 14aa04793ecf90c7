"""The whole linkmesh system as local processes: used by ``make run`` and the
end-to-end tests (real processes, real gRPC, real MongoDB wire protocol)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from cryptography.fernet import Fernet
from grpc_health.v1 import health_pb2, health_pb2_grpc

from linkmesh_core.connector_spec import ConnectorSpec, discover
from linkmesh_core.tls import Tls, tls_from
from linkmesh_devstack import certs
from linkmesh_devstack.mongo import MongoServer, start_mongo
from linkmesh_devstack.ports import free_port

# With mutual TLS, who may call whom: the gateway the profile service, the profile service each connector.
ALLOWED_CLIENTS = {"profile": "gateway", "connector": "profile"}
DEMO_TOKENS = "admin:admin-demo-token,agent:agent-demo-token,developer:developer-demo-token"


COMMON_ENV = {"PYTHONUNBUFFERED": "1"}


class Terminal:
    """``make run``'s output: each service's lines prefixed by its name, every line written
    whole under one lock, so two services' lines never merge into one."""

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        self.width = 12

    def say(self, text: str) -> None:
        with self._lock:
            self._stream.write(text if text.endswith("\n") else text + "\n")
            self._stream.flush()

    def follow(self, name: str, pipe: Any) -> threading.Thread:
        def pump() -> None:
            with pipe:
                for raw in pipe:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if line:
                        self.say(f"{name:<{self.width}} | {line}")

        thread = threading.Thread(target=pump, name=f"output-{name}", daemon=True)
        thread.start()
        return thread


@dataclass
class ServiceProcess:
    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int
    kind: str  # "grpc" or "http"
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    # Without a log file: where its lines are shown, prefixed by its name (make run).
    terminal: Terminal | None = None

    def start(self) -> None:
        if self.log_path is None and self.terminal is not None:
            self.process = subprocess.Popen(
                self.cmd, env={**os.environ, **self.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
            )
            self.terminal.follow(self.name, self.process.stdout)
            return
        out = self.log_path.open("ab") if self.log_path else None
        self.process = subprocess.Popen(
            self.cmd, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT if out else None, start_new_session=True
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited with code {self.process.returncode if self.process else '?'}:\n{self.log_tail()}")
            if self._ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready within {timeout:.0f}s:\n{self.log_tail()}")

    def _ready(self) -> bool:
        if self.kind == "grpc":
            with grpc_channel(f"127.0.0.1:{self.port}", tls_from(self.env)) as channel:
                try:
                    answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                except grpc.RpcError:
                    return False
                return answer.status == health_pb2.HealthCheckResponse.SERVING
        try:
            path = "/healthz" if self.kind == "http" else "/__sandbox/knobs"
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=0.5) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-chars:]
        return "(output not captured)"


def grpc_channel(target: str, tls: Tls | None) -> grpc.Channel:
    """A blocking channel to a local service, presenting its own certificate when it uses TLS."""
    if tls is None:
        return grpc.insecure_channel(target)
    return grpc.secure_channel(target, tls.channel_credentials(), options=[("grpc.ssl_target_name_override", tls.names[0])])


@dataclass
class Stack:
    """Ports default to free ones; ``make run`` passes fixed ones."""

    base_dir: Path
    capture_logs: bool = True
    gateway_port: int = 0
    profile_port: int = 0
    connector_ports: dict[str, int] = field(default_factory=dict)
    sandbox_ports: dict[str, int] = field(default_factory=dict)
    mongo_port: int | None = None
    tokens: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    mongo: MongoServer | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    # Replicas per service ("profile", or a vendor's connector): each on its own port, their
    # callers balancing over all of them (a gRPC address list, as a headless Service would).
    replicas: dict[str, int] = field(default_factory=dict)
    replica_ports: dict[str, list[int]] = field(default_factory=dict)
    # Mutual TLS between the services, with certificates made for this stack (linkmesh_devstack.certs)
    mutual_tls: bool = False
    # Without captured logs: the services' lines shown here, prefixed by their names (make run).
    terminal: Terminal | None = None
    # The sandboxes keep their vendor data in base_dir/sandboxes across restarts (make run), in
    # step with what linkmesh remembers; otherwise they start from their demo data.
    keep_sandbox_state: bool = False

    # Every installed connector (linkmesh.connectors entry points), in the order of their ports.
    specs: dict[str, ConnectorSpec] = field(default_factory=discover)

    @property
    def vendors(self) -> tuple[str, ...]:
        return tuple(self.specs)

    def __post_init__(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.gateway_port = self.gateway_port or free_port()
        self.profile_port = self.profile_port or free_port()
        for vendor in self.vendors:
            self.connector_ports.setdefault(vendor, free_port())
            self.sandbox_ports.setdefault(vendor, free_port())
        self.tokens = self.tokens or os.environ.get("LINKMESH_TOKENS") or DEMO_TOKENS
        firsts = {"profile": self.profile_port, **self.connector_ports}
        for name, first in firsts.items():
            self.replica_ports[name] = [first, *(free_port() for _ in range(self.replicas.get(name, 1) - 1))]

    @staticmethod
    def target(ports: list[int]) -> str:
        """A gRPC target naming every replica."""
        if len(ports) == 1:
            return f"127.0.0.1:{ports[0]}"
        return "ipv4:" + ",".join(f"127.0.0.1:{p}" for p in ports)

    @staticmethod
    def replica_name(name: str, index: int) -> str:
        return name if index == 0 else f"{name}-{index + 1}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def sandbox_url(self, vendor: str) -> str:
        return f"http://127.0.0.1:{self.sandbox_ports[vendor]}"

    def token(self, role: str) -> str:
        for part in self.tokens.split(","):
            r, _, t = part.partition(":")
            if r.strip() == role:
                return t.strip()
        raise KeyError(role)

    def secret_keys(self) -> str:
        """Kept in the data folder so encrypted app secrets survive a restart."""
        if os.environ.get("LINKMESH_SECRET_KEYS"):
            return os.environ["LINKMESH_SECRET_KEYS"]
        key_file = self.base_dir / "secret.key"
        if not key_file.exists():
            key_file.write_text(Fernet.generate_key().decode())
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    def _log(self, name: str) -> Path | None:
        if not self.capture_logs:
            return None
        (self.base_dir / "logs").mkdir(exist_ok=True)
        return self.base_dir / "logs" / f"{name}.log"

    def tls_env(self, name: str, allowed_clients: str = "") -> dict[str, str]:
        """The LINKMESH_TLS_* of service ``name`` (replicas share their service's certificate)."""
        if not self.mutual_tls:
            return {}
        tls_dir = self.base_dir / "tls"
        if not (tls_dir / "ca.crt").exists():
            certs.write(tls_dir)
        return {
            "LINKMESH_TLS_CERT": str(tls_dir / f"{name}.crt"),
            "LINKMESH_TLS_KEY": str(tls_dir / f"{name}.key"),
            "LINKMESH_TLS_CA": str(tls_dir / "ca.crt"),
            "LINKMESH_TLS_ALLOWED_CLIENTS": allowed_clients,
        }

    def _add(self, name: str, module: str, args: list[str], env: dict[str, str], port: int, kind: str) -> ServiceProcess:
        if kind in ("grpc", "http"):  # the sandboxes stand for vendors outside the mesh
            service_name = re.sub(r"-\d+$", "", name).replace("_", "-")
            env = {**env, **self.tls_env(service_name, ALLOWED_CLIENTS.get(service_name.partition("-")[0], ""))}
        service = ServiceProcess(
            name, [sys.executable, "-m", module, *args], {**env, **self.extra_env}, port, kind, self._log(name), terminal=self.terminal
        )
        self.services[name] = service
        return service

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.mongo = start_mongo(self.base_dir / "mongodb", port=self.mongo_port, log_dir=self.base_dir / "logs")
        for vendor, spec in self.specs.items():
            self._add_vendor(vendor, spec, self.mongo.uri)
        for i, port in enumerate(self.replica_ports["profile"]):
            self._add(
                self.replica_name("profile", i),
                "linkmesh_profile",
                [],
                {
                    **COMMON_ENV,
                    "PROFILE_HOST": "127.0.0.1",
                    "PROFILE_PORT": str(port),
                    "MONGODB_URI": self.mongo.uri,
                    "LINKMESH_SECRET_KEYS": self.secret_keys(),
                    "LINKMESH_CONNECTORS": ",".join(f"{v}={self.target(self.replica_ports[v])}" for v in self.connector_ports),
                    # The sandboxes deliver their change events to the gateway on this machine.
                    "LINKMESH_PUBLIC_URL": self.gateway_url,
                },
                port,
                "grpc",
            )
        self._add(
            "gateway",
            "linkmesh_gateway",
            [],
            {
                **COMMON_ENV,
                "GATEWAY_HOST": "127.0.0.1",
                "GATEWAY_PORT": str(self.gateway_port),
                "GATEWAY_PROFILE_ADDR": self.target(self.replica_ports["profile"]),
                "LINKMESH_TOKENS": self.tokens,
                # Benchmarks and tests share the bootstrap tokens: no default limit per caller here
                # (an API key's own limit still holds); deployments keep the gateway's default.
                "GATEWAY_RATE_LIMIT_PER_MINUTE": os.environ.get("GATEWAY_RATE_LIMIT_PER_MINUTE", "0"),
            },
            self.gateway_port,
            "http",
        )
        if self.terminal is not None:
            self.terminal.width = max(len(name) for name in self.services)
        for service in self.services.values():
            service.start()
        for service in self.services.values():
            service.wait_ready()

    def _add_vendor(self, vendor: str, spec: ConnectorSpec, mongodb_uri: str) -> None:
        """The vendor's sandbox (where it has one) and its connector's replicas."""
        if spec.sandbox:
            state = ["--state-file", str(self.base_dir / "sandboxes" / f"{vendor}.state")] if self.keep_sandbox_state else []
            self._add(
                f"sandbox-{vendor}",
                "linkmesh_sandboxes",
                [vendor, "--port", str(self.sandbox_ports[vendor]), *state],
                COMMON_ENV,
                self.sandbox_ports[vendor],
                "sandbox",
            )
        ports = self.replica_ports[vendor]
        for i, port in enumerate(ports):
            self._add(
                self.replica_name(f"connector-{vendor}", i),
                spec.module,
                [],
                {
                    **COMMON_ENV,
                    "CONNECTOR_HOST": "127.0.0.1",
                    "CONNECTOR_PORT": str(port),
                    # the sandboxes listen on loopback
                    "LINKMESH_ALLOW_PRIVATE_VENDOR_HOSTS": "true",
                    # vendor budgets kept where every replica shares them
                    "MONGODB_URI": mongodb_uri,
                    "CONNECTOR_REPLICAS_MAX": str(len(ports)),
                },
                port,
                "grpc",
            )

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        if self.mongo is not None:
            self.mongo.stop()
            self.mongo = None

    # HTTP helpers for bootstrapping (the tests have their own client)

    def api(self, method: str, path: str, role: str = "admin", body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.gateway_url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token(role)}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def demo_apps(self) -> list[dict[str, Any]]:
        """One demo app per connector that declares a sandbox, pointed at its sandbox."""
        return [spec.load_sandbox().demo_app(self.sandbox_url(vendor)) for vendor, spec in self.specs.items() if spec.sandbox]

    def demo_secrets(self) -> list[str]:
        """Every demo app's secret values: no service may ever log one."""
        return [value for app in self.demo_apps() for value in app.get("secrets", {}).values()]

    def ensure_demo_apps(self) -> list[dict[str, Any]]:
        """Creates the demo app of each vendor unless it exists; re-points it when the sandbox moved."""
        status, body = self.api("GET", "/api/v1/apps")
        if status != 200:
            raise RuntimeError(f"cannot list apps: {status} {body}")
        existing = {a["name"]: a for a in body["apps"]}
        out = []
        for payload in self.demo_apps():
            app = existing.get(payload["name"])
            if app is None:
                status, app = self.api("POST", "/api/v1/apps", body=payload)
                if status != 201:
                    raise RuntimeError(f"cannot create the demo app {payload['name']}: {status} {app}")
            elif destination(app["settings"]) != destination(payload["settings"]):
                # Moving an app to another host needs its secrets again.
                status, app = self.api(
                    "PATCH", f"/api/v1/apps/{app['id']}", body={"settings": payload["settings"], "secrets": payload["secrets"]}
                )
            out.append(app)
        return out


def destination(settings: dict[str, str]) -> str:
    """Where an app's secrets are sent (its vendor's URL setting)."""
    return settings.get("api_base_url") or settings.get("url") or ""
