"""`make run`'s supervisor: starts everything, creates the demo app once,
stops every process on Ctrl-C, and keeps data across a restart."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from linkmesh_core.connector_spec import discover
from linkmesh_devstack.ports import port_open

pytestmark = pytest.mark.e2e
ENV = {k: v for k, v in os.environ.items() if k not in ("LINKMESH_TOKENS", "LINKMESH_SECRET_KEYS")}


class Output:
    """make run's output, read as it comes (a pipe nobody reads would stall the services)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=lambda: self.lines.extend(iter(process.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
        self._thread.start()

    def finish(self) -> list[str]:
        self._thread.join(timeout=30)
        return self.lines


def start(data_dir: Path) -> tuple[subprocess.Popen[str], str, list[int], Output]:
    process = subprocess.Popen(
        [sys.executable, "-m", "linkmesh_devstack", "run", "--data-dir", str(data_dir), "--free-ports"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
        start_new_session=True,
        # Started as a background job is (SIGINT ignored): Ctrl-C must stop it all the same.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    output = Output(process)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        text = "".join(output.lines)
        if "\nPress Ctrl-C" in text:
            gateway = re.search(r"gateway\s+(http://127\.0\.0\.1:\d+)", text)
            assert gateway, text
            banner = text[text.index("linkmesh is running") :]
            ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", banner)]
            return process, gateway.group(1), ports, output
        time.sleep(0.1)
    process.kill()
    raise AssertionError("make run did not start:\n" + "".join(output.lines)[-3000:])


def services_lines(lines: list[str]) -> dict[str, list[dict[str, object]]]:
    """Every line of make run's output is its own (unprefixed) or one service's line, prefixed
    by the service's name, holding exactly one JSON object (two merged lines would not parse)."""
    out: dict[str, list[dict[str, object]]] = {}
    for line in lines:
        line = line.rstrip("\n")
        match = re.match(r"^([a-z][a-z0-9_-]*) +\| (.*)$", line)
        if match is None:
            assert not line or line.startswith(("linkmesh", "  ", "Press Ctrl-C")), f"a line from nowhere: {line!r}"
            continue
        event = json.loads(match.group(2))
        assert isinstance(event, dict) and event["service"].replace("_", "-") == match.group(1).replace("_", "-"), line
        out.setdefault(match.group(1), []).append(event)
    return out


def bigcommerce_order(output: Output, method: str = "GET", body: object = None) -> dict[str, object]:
    """Order 5003 in the BigCommerce sandbox this make run started (its URL from the banner)."""
    from linkmesh_sandboxes.bigcommerce.data import ACCESS_TOKEN, STORE_HASH

    url = re.findall(r"sandbox\s+bigcommerce at (http://127\.0\.0\.1:\d+)", "".join(output.lines))[-1]
    request = urllib.request.Request(
        f"{url}/stores/{STORE_HASH}/v2/orders/5003",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Auth-Token": ACCESS_TOKEN, "Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as resp:
        return json.loads(resp.read())


def call(url: str, method: str = "GET", body: object = None, token: str = "agent-demo-token") -> Any:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as resp:
        return json.loads(resp.read())


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


def listening(ports: list[int]) -> list[int]:
    return [p for p in ports if port_open(p)]


# One demo app per installed connector that declares a sandbox, in the order of their ports.
DEMO_APPS = [spec.load_sandbox().demo_app("http://x")["name"] for spec in discover().values() if spec.sandbox]


def test_run_starts_everything_stops_on_ctrl_c_and_keeps_data(tmp_path: Path) -> None:
    process, gateway, ports, output = start(tmp_path)
    assert len(set(ports)) >= 5, "gateway, profile, connector, sandbox and MongoDB"
    try:
        apps = call(f"{gateway}/api/v1/apps", token="admin-demo-token")["apps"]
        assert [a["name"] for a in apps] == DEMO_APPS
        customer = call(f"{gateway}/api/v1/customers", "POST", {"name": "Kept", "emails": ["kept@example.com"]})
        search = call(
            f"{gateway}/api/v1/customers/{customer['id']}/external-search",
            "POST",
            {"app_id": "all", "email": "jane.smith@example.com"},
        )
        assert sorted((r["app_type"], r["external_customer_id"]) for r in search["results"]) == [
            ("bigcommerce", "101"),
            ("lookup_adaptor", "club-1001"),
            ("magento", "1"),
            ("returnlogic", "jane.smith@example.com"),
            ("shopify", "7001"),
        ]
        # A vendor's state changes (an order cancelled in BigCommerce) ...
        assert bigcommerce_order(output, "PUT", {"status_id": 5})["status"] == "Cancelled"
        time.sleep(1.5)
    finally:
        stop(process)
    assert process.returncode == 0
    assert listening(sorted(set(ports))) == [], "every process stopped"
    shown = services_lines(output.finish())
    assert {"gateway", "profile"} | {f"connector-{t}" for t in discover()} <= set(shown), sorted(shown)
    assert any(e["event"] == "http_request" for e in shown["gateway"])

    process, gateway, _, output = start(tmp_path)
    try:
        apps = call(f"{gateway}/api/v1/apps", token="admin-demo-token")["apps"]
        assert [a["name"] for a in apps] == DEMO_APPS, "the demo apps are created once"
        found = call(f"{gateway}/api/v1/customers?email=kept@example.com")["customers"]
        assert [c["id"] for c in found] == [customer["id"]], "data survives a restart"
        # The secret was encrypted with the key kept in the data folder, so the app still works.
        search = call(
            f"{gateway}/api/v1/customers/{customer['id']}/external-search",
            "POST",
            {"app_id": "all", "email": "jane.smith@example.com"},
        )
        assert search["failures"] == []
        # ... and is still so after a restart, in step with what linkmesh remembers.
        assert bigcommerce_order(output)["status"] == "Cancelled"
        refused = subprocess.run(
            [sys.executable, "-m", "linkmesh_devstack", "reset", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
        )
        assert refused.returncode == 1 and "stop it" in refused.stderr, "no reset under a running make run"
    finally:
        stop(process)
    # make reset forgets both together: linkmesh's data and the sandboxes'.
    done = subprocess.run(
        [sys.executable, "-m", "linkmesh_devstack", "reset", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "mongodb").exists() and not (tmp_path / "sandboxes").exists() and not (tmp_path / "secret.key").exists()
