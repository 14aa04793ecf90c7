"""Every line a linkmesh service writes is one JSON object: checked over every log file the
test run's services wrote (the stacks' ``logs/`` and each service started on its own)."""

from __future__ import annotations

import json
from pathlib import Path

# Written by processes that are not linkmesh services: the database server, the test's OpenID provider.
NOT_OURS = {"mongodb.log", "oidc-provider.log"}


def non_json_lines(path: Path, limit: int = 5) -> list[str]:
    bad: list[str] = []
    with path.open("rb") as log:
        for number, raw in enumerate(log, 1):
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                ok = isinstance(json.loads(line), dict)
            except ValueError:
                ok = False
            if not ok:
                bad.append(f"{path}:{number}: {line[:300]}")
                if len(bad) >= limit:
                    break
    return bad


def service_logs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.log") if p.name not in NOT_OURS and "node_modules" not in p.parts)


def problems(root: Path) -> list[str]:
    return [line for path in service_logs(root) for line in non_json_lines(path)]


def tracebacks(log: str) -> list[str]:
    """The lines of a log that carry a traceback: a structured ``exception`` field, or the
    text of one (a service that printed it itself)."""
    out = []
    for line in log.splitlines():
        if "Traceback (most recent call last)" in line:
            out.append(line)
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("exception"):
            out.append(line)
    return out
