"""How a connector declares itself, once, for everything that runs, tests or deploys it.

A connector package names one ``ConnectorSpec`` under the ``linkmesh.connectors`` entry
point group in its ``pyproject.toml``::

    [project.entry-points."linkmesh.connectors"]
    shopify = "linkmesh_shopify.spec:SPEC"

``make run`` and the end-to-end stack (``linkmesh_devstack``), the sandbox runner
(``linkmesh-sandbox <type>``), the tests' secret scan and the deployment files
(``make deploy-files`` writes the connectors' parts of docker-compose.yml and the
Kubernetes manifests; a test fails when they are stale) all read the installed specs
through ``discover()``. Adding a connector is its folder plus its line in the Makefile's
``PACKAGES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "linkmesh.connectors"
_TYPE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class ConnectorSpec:
    """``type``: the app type it serves (``shopify``). ``display_name``: the vendor as agents
    read it. ``module``: what ``python -m`` runs (the server). ``command``: the console
    script that images run. ``port``: its usual gRPC port (make run, compose, Kubernetes).
    ``sandbox``: ``"module:object"`` naming its vendor sandbox (a
    ``linkmesh_sandboxes.kit.Sandbox``), imported only by development tooling, so a
    connector's image need not hold it; ``sandbox_port``: the sandbox's usual port."""

    type: str
    display_name: str
    module: str
    command: str
    port: int
    sandbox: str = ""
    sandbox_port: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not _TYPE.match(self.type):
            problems.append(f"type {self.type!r} must be lower-case letters, digits and underscores")
        if not 1024 <= self.port <= 65535 or (self.sandbox and not 1024 <= self.sandbox_port <= 65535):
            problems.append("port and sandbox_port must lie in 1024-65535")
        if self.sandbox and not _REF.match(self.sandbox):
            problems.append(f"sandbox {self.sandbox!r} must be 'module:object'")
        if problems:
            raise ValueError(f"connector spec {self.type!r}: " + "; ".join(problems))

    @property
    def name(self) -> str:
        """Its service name: the folder under ``services/``, the compose service, the Kubernetes Deployment."""
        return "connector-" + self.type.replace("_", "-")

    @property
    def sandbox_name(self) -> str:
        return "sandbox-" + self.type.replace("_", "-")

    def load_sandbox(self) -> Any:
        """Its ``Sandbox`` (needs the sandboxes package installed)."""
        if not self.sandbox:
            raise LookupError(f"the {self.type} connector declares no sandbox")
        module, _, attr = self.sandbox.partition(":")
        return getattr(import_module(module), attr)


def discover() -> dict[str, ConnectorSpec]:
    """Every installed connector's spec by type, in the order of their ports. Two
    connectors claiming one type or one port are refused, naming both."""
    specs: dict[str, ConnectorSpec] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = ep.load()
        if not isinstance(spec, ConnectorSpec):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a ConnectorSpec")
        if ep.name != spec.type:
            raise ValueError(f"entry point {ep.name} = {ep.value} declares type {spec.type!r}: name the entry point after its type")
        if spec.type in specs:
            raise ValueError(f"two connectors declare type {spec.type!r}")
        specs[spec.type] = spec
    ordered = sorted(specs.values(), key=lambda s: s.port)
    taken: dict[int, str] = {}
    for spec in ordered:
        for port in (spec.port, spec.sandbox_port):
            if port and port in taken:
                raise ValueError(f"connectors {taken[port]} and {spec.type} both use port {port}")
            if port:
                taken[port] = spec.type
    return {s.type: s for s in ordered}
