"""``make new-connector NAME=acme``: a working read-only connector, its vendor sandbox and its test.

Writes, under the repository (or ``--root``):

- ``services/connector-<name>/``: the connector's distribution, on the SDK
  (``linkmesh_core.sdk``): its declaration (``spec.py``, the ``linkmesh.connectors`` entry
  point), its settings, its credentials check, search by email and fetch (``connector.py``);
- ``sandboxes/src/linkmesh_sandboxes/<name>/``: an imitation of the vendor's API with demo
  customers (``app.py``) and its declaration for ``make run`` (``sandbox.py``);
- ``tests/test_<name>_connector.py``: the connector served over gRPC against its sandbox;

and adds the connector's line to the Makefile (and its package to ruff's first-party list). Then: ``make install`` (or ``make test``) installs
it, ``make deploy-files`` writes its parts of the deployment files, and ``make run`` starts it
with its sandbox. Replace the sandbox's API with the vendor's, from its published specification.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
FIRST_PORT, FIRST_SANDBOX_PORT = 50070, 8690

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "linkmesh-connector-{dash}"
version = "0.1.0"
description = "linkmesh Lookup connector for {title}"
requires-python = ">=3.11"
dependencies = ["linkmesh-core[connector]"]

[project.scripts]
linkmesh-connector-{dash} = "linkmesh_{name}.__main__:main"

[project.entry-points."linkmesh.connectors"]
{name} = "linkmesh_{name}.spec:SPEC"

[tool.setuptools.packages.find]
where = ["src"]
"""

SPEC = '''"""The {title} connector's declaration (entry point ``linkmesh.connectors``)."""

from linkmesh_core.connector_spec import ConnectorSpec

SPEC = ConnectorSpec(
    type="{name}",
    display_name="{title}",
    module="linkmesh_{name}",
    command="linkmesh-connector-{dash}",
    port={port},
    sandbox="linkmesh_sandboxes.{name}.sandbox:SANDBOX",
    sandbox_port={sandbox_port},
)
'''

MAIN = '''"""Entry point: ``linkmesh-connector-{dash}`` (configuration from the environment, see
``linkmesh_core.connector.ConnectorSettings``)."""

from __future__ import annotations

from linkmesh_core import sdk
from linkmesh_core.vendor_http import VendorHTTP
from linkmesh_{name}.connector import {cls}


def main() -> None:
    sdk.serve(
        "connector-{dash}",
        lambda s: VendorHTTP(
            "{title}",
            errors=sdk.JsonErrors(),
            max_attempts=s.vendor_attempts,
            allow_private_hosts=s.allow_private_vendor_hosts,
            budget=s.budget("{title}", [(10, 1.0)]),  # the vendor's published limits: (requests, seconds)
        ),
        {cls},
    )


if __name__ == "__main__":
    main()
'''

CONNECTOR = '''"""{title}, on the connector SDK (``linkmesh_core.sdk``): a customer is found by email and
read with their orders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import sdk
from linkmesh_core.app_settings import check_secret, check_url
from linkmesh_core.errors import not_found
from linkmesh_core.money import money
from linkmesh_core.vendor_http import Deadline, VendorHTTP


@dataclass(frozen=True)
class Account:
    base_url: str
    token: str


class {cls}(sdk.Connector[Account]):
    description = sdk.Description(
        vendor="{name}",
        display_name="{title}",
        search_by=("email",),
        auto_link_by=("email",),
        settings=[
            lookup_pb2.SettingSpec(
                name="api_base_url", label="API base URL", required=True, credentials_destination=True, hint="Where {title}'s API answers."
            ),
            lookup_pb2.SettingSpec(name="api_token", label="API token", required=True, secret=True, hint="Sent as Bearer."),
        ],
    )
    refusals = {{grpc.StatusCode.UNAUTHENTICATED: ("api_token", "{title} refused this token")}}

    def __init__(self, http: VendorHTTP) -> None:
        self.http = http

    def account(self, app: sdk.App) -> Account:
        errors: dict[str, str] = {{}}
        base, token = check_url(app, "api_base_url", errors), check_secret(app, "api_token", errors)
        if errors:
            raise sdk.SettingsInvalid(errors)
        return Account(base.rstrip("/"), token)

    async def _get(self, account: Account, path: str, deadline: Deadline, params: dict[str, str] | None = None) -> Any:
        headers = {{"Authorization": f"Bearer {{account.token}}", "Accept": "application/json"}}
        return await self.http.request(
            "GET", f"{{account.base_url}}{{path}}", bucket=account.base_url, deadline=deadline, headers=headers, params=params
        )

    async def prove(self, account: Account, deadline: Deadline) -> None:
        await self._get(account, "/customers", deadline, {{"email": "linkmesh-probe@example.com"}})

    async def search(self, account: Account, query: sdk.Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        found: list[lookup_pb2.CustomerSummary] = []
        for email in query.emails:
            for c in (await self._get(account, "/customers", deadline, {{"email": email}}))["customers"][: query.first]:
                found.append(lookup_pb2.CustomerSummary(external_id=str(c["id"]), name=c["name"], emails=[c["email"]]))
        return found

    async def fetch(self, account: Account, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.Customer:
        external_id = request.external_id.strip()
        answer = await self._get(account, "/customers", deadline, {{"id": external_id}})
        if not answer["customers"]:
            raise not_found(f"{title} has no customer {{external_id}}")
        c = answer["customers"][0]
        orders = [
            lookup_pb2.Order(id=str(o["id"]), number=str(o["number"]), status=o["status"], total=money(o["total"], o["currency"]))
            for o in (await self._get(account, f"/customers/{{external_id}}/orders", deadline))["orders"]
        ]
        return lookup_pb2.Customer(external_id=str(c["id"]), name=c["name"], emails=[c["email"]], orders=orders)
'''

SANDBOX_APP = '''"""An imitation of {title}'s API, with demo customers: replace it with the vendor's own, built
from its published specification."""

from __future__ import annotations

from aiohttp import web

TOKEN = "demo-{dash}-token"
CUSTOMERS = [
    {{"id": 1, "name": "Jane Smith", "email": "jane.smith@example.com"}},
    {{"id": 2, "name": "John Doe", "email": "john.doe@example.com"}},
]
ORDERS = {{1: [{{"id": 901, "number": "9001", "status": "shipped", "total": "42.50", "currency": "USD"}}], 2: []}}


@web.middleware
async def bearer(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    if request.path.startswith("/__sandbox") or request.headers.get("Authorization") == f"Bearer {{TOKEN}}":
        return await handler(request)
    return web.json_response({{"error": "invalid token"}}, status=401)


async def customers(request: web.Request) -> web.Response:
    email, wanted = request.query.get("email", "").lower(), request.query.get("id", "")
    found = [c for c in CUSTOMERS if (email and c["email"] == email) or (wanted and str(c["id"]) == wanted)]
    return web.json_response({{"customers": found}})


async def orders(request: web.Request) -> web.Response:
    return web.json_response({{"orders": ORDERS.get(int(request.match_info["id"]), [])}})


async def ready(request: web.Request) -> web.Response:
    return web.json_response({{"ready": True}})


def create_app() -> web.Application:
    app = web.Application(middlewares=[bearer])
    app.router.add_get("/customers", customers)
    app.router.add_get("/customers/{{id}}/orders", orders)
    app.router.add_get("/__sandbox/knobs", ready)
    return app
'''

SANDBOX_DECLARATION = '''"""The {title} sandbox as its connector declares it (``linkmesh_sandboxes.kit``)."""

from __future__ import annotations

from typing import Any

from linkmesh_sandboxes.kit import Sandbox
from linkmesh_sandboxes.{name}.app import TOKEN, create_app


def demo_app(base_url: str) -> dict[str, Any]:
    return {{
        "type": "{name}",
        "name": "{title} (sandbox)",
        "settings": {{"api_base_url": base_url}},
        "secrets": {{"api_token": TOKEN}},
        "search_query_attributes": [{{"attribute": "email", "label": "Email"}}],
        "auto_link_fields": ["email"],
    }}


SANDBOX = Sandbox(create_app, demo_app)
'''

TEST = '''"""The {title} connector (services/connector-{dash}) served over gRPC against its sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
from aiohttp import web
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import sdk
from linkmesh_core.vendor_http import VendorHTTP
from linkmesh_{name}.connector import {cls}
from linkmesh_sandboxes.{name}.app import TOKEN, create_app


@asynccontextmanager
async def {name}_stub() -> AsyncIterator[tuple[Any, lookup_pb2.AppContext]]:
    """The connector served over gRPC as in production, against its sandbox on a local port."""
    runner = web.AppRunner(create_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    http = VendorHTTP("{title}", errors=sdk.JsonErrors(), allow_private_hosts=True)
    app = lookup_pb2.AppContext(settings={{"api_base_url": f"http://127.0.0.1:{{port}}"}}, secrets={{"api_token": TOKEN}})
    try:
        async with sdk.in_process({cls}(http), http) as stub:
            yield stub, app
    finally:
        await runner.cleanup()


async def test_it_validates_searches_and_fetches() -> None:
    async with {name}_stub() as (stub, app):
        assert (await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=app))).ok
        found = await stub.Search(lookup_pb2.SearchRequest(app=app, emails=["Jane.Smith@example.com"]))
        assert [c.external_id for c in found.candidates] == ["1"]
        customer = (await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="1"))).customer
        assert customer.name == "Jane Smith" and [o.number for o in customer.orders] == ["9001"]


async def test_a_wrong_token_is_named() -> None:
    async with {name}_stub() as (stub, app):
        wrong = lookup_pb2.AppContext(settings=dict(app.settings), secrets={{"api_token": "nope"}})
        answer = await stub.ValidateApp(lookup_pb2.ValidateAppRequest(app=wrong))
        assert [e.field for e in answer.errors] == ["api_token"]
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.Fetch(lookup_pb2.FetchRequest(app=app, external_id="99"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
'''


def used_ports(root: Path) -> tuple[set[int], set[int]]:
    ports, sandbox_ports = set(), set()
    for spec in root.glob("services/connector-*/src/*/spec.py"):
        text = spec.read_text()
        ports |= {int(p) for p in re.findall(r"\bport=(\d+)", text)}
        sandbox_ports |= {int(p) for p in re.findall(r"sandbox_port=(\d+)", text)}
    return ports, sandbox_ports


def files(name: str, root: Path) -> dict[Path, str]:
    """Every file the connector needs, by path under ``root``."""
    ports, sandbox_ports = used_ports(root)
    values = {
        "name": name,
        "dash": name.replace("_", "-"),
        "title": name.replace("_", " ").title(),
        "cls": "".join(part.title() for part in name.split("_")),
        "port": min(p for p in range(FIRST_PORT, FIRST_PORT + 100) if p not in ports),
        "sandbox_port": min(p for p in range(FIRST_SANDBOX_PORT, FIRST_SANDBOX_PORT + 100) if p not in sandbox_ports),
    }
    service = root / "services" / f"connector-{values['dash']}"
    package = service / "src" / f"linkmesh_{name}"
    sandbox = root / "sandboxes" / "src" / "linkmesh_sandboxes" / name
    templates = {
        service / "pyproject.toml": PYPROJECT,
        package / "__init__.py": '"""linkmesh Lookup connector for {title}."""\n',
        package / "__main__.py": MAIN,
        package / "spec.py": SPEC,
        package / "connector.py": CONNECTOR,
        sandbox / "__init__.py": '"""An imitation of {title}\'s API."""\n',
        sandbox / "app.py": SANDBOX_APP,
        sandbox / "sandbox.py": SANDBOX_DECLARATION,
        root / "tests" / f"test_{name}_connector.py": TEST,
    }
    return {path: template.format(**values) for path, template in templates.items()}


def write(name: str, root: Path = ROOT) -> list[Path]:
    """Writes the connector and adds it to the Makefile; refuses a bad or taken name."""
    if not NAME.fullmatch(name):
        raise SystemExit(f"NAME must be lowercase letters, digits and _ (2 to 31, a letter first), not {name!r}")
    out = files(name, root)
    taken = [str(p.relative_to(root)) for p in out if p.exists()]
    if taken:
        raise SystemExit(f"connector {name!r} exists already: {', '.join(taken)}")
    for path, text in out.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    makefile = root / "Makefile"
    lines = makefile.read_text().splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith("CONNECTORS += "))
    lines.insert(last + 1, f"CONNECTORS += services/connector-{name.replace('_', '-')}\n")
    makefile.write_text("".join(lines))
    ruff = root / "ruff.toml"  # the package is the project's own: its imports sort with the others
    if ruff.exists():
        settings = ruff.read_text()
        ruff.write_text(settings.replace("known-first-party = [", f'known-first-party = ["linkmesh_{name}", ', 1))
    tidy(root, sorted(out))
    return sorted(out)


def tidy(root: Path, paths: list[Path]) -> None:
    """The generated files with their imports sorted and formatted as the project's are (ruff)."""
    python = [str(p) for p in paths if p.suffix == ".py"]
    for command in (["check", "--fix", "--select", "I", "--quiet"], ["format", "--quiet"]):
        subprocess.run([sys.executable, "-m", "ruff", *command, *python], cwd=root, capture_output=True, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="the app type, e.g. acme (lowercase letters, digits and _)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    args = parser.parse_args()
    for path in write(args.name, args.root):
        print(f"wrote {path.relative_to(args.root)}")
    print("added its line to the Makefile; next: make install && make deploy-files && make test (see docs/adding-a-connector.md)")


if __name__ == "__main__":
    main()
