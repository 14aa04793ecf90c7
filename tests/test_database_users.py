"""Least privilege in MongoDB (linkmesh_devstack.database_users): every service connects as its
own user, in compose and on Kubernetes, and each role grants only the collections its service
uses: a connector reaches the vendor budgets and nothing else (not an app's secrets), the
profile service may only append to the audit log, the gateway has no user at all. The scripts
that create the users run in Node with a recording stand-in for mongosh's ``db`` and ``rs``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

from linkmesh_core.connector_spec import discover
from linkmesh_devstack import database_users as dbu
from linkmesh_devstack.deployfiles import BEGIN, END
from tests.test_containers import PRODUCTION, REQUIRED, ROOT
from tests.test_kubernetes import OVERLAYS, RENDERED, SERVICES, container, find

SPECS = list(discover().values())
USERS = dbu.users(SPECS)
MONGO_DIR = ROOT / "deploy/kubernetes/base/mongo"
USERS_JS = MONGO_DIR / "linkmesh-users.js"


def generated(path: Path, name: str) -> str:
    begin, end = (m.format(name=name).replace("#", "//", 1) for m in (BEGIN, END))
    text = path.read_text()
    return text[text.index(begin) + len(begin) : text.index(end)]


def script_constant(name: str) -> Any:
    """A constant of the generated part of linkmesh-users.js, as JSON."""
    block = generated(USERS_JS, "database-users")
    m = re.search(rf"^const {name} = (.*?);$", block, re.M | re.S)
    assert m, name
    return json.loads(re.sub(r",(\s*[\]}])", r"\1", m.group(1)))  # JSON without the trailing commas


def test_each_kind_of_service_is_granted_only_the_collections_it_uses() -> None:
    roles = {role: dict(grants) for role, grants in script_constant("ROLES").items()}
    assert set(roles) == {dbu.PROFILE_ROLE, dbu.CONNECTOR_ROLE}
    assert roles[dbu.CONNECTOR_ROLE] == {"vendor_budgets": dbu.READ_WRITE}, "a connector reads no secret, customer or trace"
    profile = roles[dbu.PROFILE_ROLE]
    assert {"customers", "apps", "actions", "audit"} <= set(profile) and "vendor_budgets" not in profile
    assert "remove" not in profile["audit"], "the audit log is never removed from: only its retention expires entries"
    assert all(
        a in ("find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes")
        or (a == "collMod" and collection in ("lookup_traces", "audit", "actions"))  # TTLs follow the retention settings
        for collection, grants in profile.items()
        for a in grants
    ), "no database-wide or administrative action"
    assert script_constant("USERS") == {"profile": dbu.PROFILE_ROLE, **{s.name: dbu.CONNECTOR_ROLE for s in SPECS}}


def unhashed(ref: dict[str, str]) -> dict[str, str]:
    """A reference without the hash kustomize appends to a generated Secret's name."""
    return {**ref, "name": re.sub(r"-[a-z0-9]{10}$", "", ref["name"])}


def uri_parts(uri: str) -> tuple[str, str, str, dict[str, list[str]]]:
    parts = urlsplit(uri)
    return unquote(parts.username or ""), unquote(parts.password or ""), parts.path, parse_qs(parts.query)


def test_compose_connects_each_service_as_its_own_user() -> None:
    with_uri = {
        name: s["environment"]["MONGODB_URI"] for name, s in PRODUCTION["services"].items() if "MONGODB_URI" in (s.get("environment") or {})
    }
    assert set(with_uri) == set(USERS), "the profile service and every connector, never the gateway"
    for name, uri in with_uri.items():
        user, password, path, query = uri_parts(uri)
        assert user == name and password == REQUIRED[dbu.password_variable(name)], name
        assert path == "/linkmesh" and query["authSource"] == ["linkmesh"] and query["w"] == ["majority"], name
    mongo = PRODUCTION["services"]["mongo"]
    assert mongo["environment"]["MONGO_INITDB_ROOT_PASSWORD"] == REQUIRED["MONGO_ROOT_PASSWORD"], "access control on"
    assert {k for k in mongo["environment"] if k.startswith("LINKMESH_DB_PASSWORD_")} == {dbu.password_variable(u) for u in USERS}
    assert f"./{USERS_JS.relative_to(ROOT)}:/docker-entrypoint-initdb.d/linkmesh-users.js:ro" in mongo["volumes"]


def test_compose_env_gives_every_variable_compose_requires() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    written = dict(line.split("=", 1) for line in dbu.compose_env(SPECS).splitlines())
    assert set(written) == required
    assert all(re.fullmatch(r"[0-9a-f]{48}", written[dbu.password_variable(u)]) for u in USERS), "safe inside a URI"
    assert written != dict(line.split("=", 1) for line in dbu.compose_env(SPECS).splitlines()), "new values each time"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_connects_each_service_as_its_own_user(overlay: str) -> None:
    objects = RENDERED[overlay]
    for name in SERVICES:
        env = container(objects, name)["env"]
        names = [e["name"] for e in env]
        if name == "gateway":
            assert "MONGODB_URI" not in names
            continue
        uri = next(e["value"] for e in env if e["name"] == "MONGODB_URI")
        assert uri == f"mongodb://{name}:$(MONGODB_PASSWORD)@$(MONGODB_HOSTS)/linkmesh?authSource=linkmesh&$(MONGODB_OPTIONS)"
        # Kubernetes expands $(VAR) only from variables defined before.
        assert max(names.index(v) for v in ("MONGODB_PASSWORD", "MONGODB_HOSTS", "MONGODB_OPTIONS")) < names.index("MONGODB_URI")
        ref = next(e for e in env if e["name"] == "MONGODB_PASSWORD")["valueFrom"]["secretKeyRef"]
        assert unhashed(ref) == {"name": "linkmesh-database", "key": name}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_replica_set_runs_with_access_control_and_creates_the_users(overlay: str) -> None:
    objects = RENDERED[overlay]
    pod = find(objects, "StatefulSet", "mongo")["spec"]["template"]["spec"]
    start = (MONGO_DIR / "start.sh").read_text()
    assert re.search(r"^exec mongod .*--auth --keyFile /tmp/keyfile$", start, re.M)
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    for user in USERS:
        assert unhashed(env[dbu.password_variable(user)]["valueFrom"]["secretKeyRef"]) == {"name": "linkmesh-database", "key": user}
    keyfile = next(v for v in pod["volumes"] if v["name"] == "keyfile")["secret"]
    assert unhashed({"name": keyfile["secretName"]})["name"] == "linkmesh-database" and keyfile["items"] == [
        {"key": "mongo-keyfile", "path": "keyfile"}
    ]
    scripts = next(v for v in pod["volumes"] if v["name"] == "scripts")["configMap"]["name"]
    data = find(objects, "ConfigMap", scripts)["data"]
    assert data == {f.name: f.read_text() for f in (MONGO_DIR / "start.sh", MONGO_DIR / "init.js", USERS_JS)}
    secrets = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"].startswith("linkmesh-database")]
    if overlay == "production":
        assert not secrets, "the operator creates it (database_users kubernetes-secret), never committed"
    else:
        assert set(secrets[0]["data"]) == {"root-password", "mongo-keyfile", *USERS}
    made = yaml.safe_load(dbu.kubernetes_secret(SPECS, "linkmesh"))
    assert set(made["stringData"]) == {"root-password", "mongo-keyfile", *USERS}


HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const calls = [];
const existing = new Set(JSON.parse(process.argv[2]));
const statusError = process.argv[3];
function record(name) { return (...args) => { calls.push([name, ...args]); return null; }; }
const database = (name) => ({
  getSiblingDB: (other) => database(other),
  getRole: (role) => (existing.has(role) ? { role } : null),
  getUser: (user) => (existing.has(user) ? { user } : null),
  createRole: record(`createRole ${name}`), updateRole: record(`updateRole ${name}`),
  createUser: record(`createUser ${name}`), updateUser: record(`updateUser ${name}`),
  auth: record(`auth ${name}`), hello: () => ({ isWritablePrimary: true }),
});
const rs = {
  status: () => {  // an error of the script's own realm, as mongosh's are
    if (statusError) { const e = vm.runInContext("new Error()", context); e.codeName = statusError; throw e; }
    return {};
  },
  initiate: record("rs.initiate"),
};
const context = { db: database("test"), rs, print: () => {}, sleep: () => {}, process: { env: JSON.parse(process.argv[4]) },
                  load: (path) => vm.runInContext(fs.readFileSync(path.replace("/scripts/", process.argv[5] + "/"), "utf8"), context) };
vm.createContext(context);
try {
  vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), context);
  console.log(JSON.stringify({ calls }));
} catch (error) {
  console.log(JSON.stringify({ calls, error: String(error.message) }));
}
"""


def run_script(script: Path, env: dict[str, str], existing: tuple[str, ...] = (), status_error: str = "") -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "make test needs Node.js"
    out = subprocess.run(
        [node, "-e", HARNESS, "--", str(script), json.dumps(list(existing)), status_error, json.dumps(env), str(MONGO_DIR)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


PASSWORDS = {dbu.password_variable(u): f"pw-{u}" for u in USERS}


def test_the_users_script_creates_every_role_and_user_then_updates_them() -> None:
    first = run_script(USERS_JS, PASSWORDS)
    assert "error" not in first
    made = {c[1]["user"]: c[1] for c in first["calls"] if c[0] == "createUser linkmesh"}
    assert set(made) == set(USERS)
    for user, spec in made.items():
        assert spec["pwd"] == f"pw-{user}" and spec["roles"] == [{"role": USERS[user], "db": "linkmesh"}]
    roles = {c[1]["role"]: c[1]["privileges"] for c in first["calls"] if c[0] == "createRole linkmesh"}
    assert {p["resource"]["collection"] for p in roles[dbu.CONNECTOR_ROLE]} == {"vendor_budgets"}
    assert all(p["resource"]["db"] == "linkmesh" for grants in roles.values() for p in grants)
    again = run_script(USERS_JS, PASSWORDS, existing=(*USERS, dbu.PROFILE_ROLE, dbu.CONNECTOR_ROLE))
    assert {c[0] for c in again["calls"]} == {"updateRole linkmesh", "updateUser linkmesh"}, "run again: passwords and roles set again"
    missing = run_script(USERS_JS, {k: v for k, v in PASSWORDS.items() if "SHOPIFY" not in k})
    assert "LINKMESH_DB_PASSWORD_CONNECTOR_SHOPIFY is not set" in missing["error"]


@pytest.mark.parametrize("status_error", ["NotYetInitialized", "Unauthorized"])
def test_the_first_member_initiates_the_set_once_then_sets_the_users_up_as_root(status_error: str) -> None:
    env = {"MONGO_MEMBERS": "3", "MONGO_ROOT_PASSWORD": "root-pw", **PASSWORDS}
    result = run_script(MONGO_DIR / "init.js", env, status_error=status_error)
    assert "error" not in result, result
    initiated = [c for c in result["calls"] if c[0] == "rs.initiate"]
    if status_error == "NotYetInitialized":
        assert [m["host"] for m in initiated[0][1]["members"]] == [f"mongo-{i}.mongo:27017" for i in range(3)]
    else:
        assert not initiated, "users exist: the set was initiated on an earlier start"
    assert ["auth admin", "root", "root-pw"] in result["calls"]
    assert {c[1]["user"] for c in result["calls"] if c[0] == "createUser linkmesh"} == set(USERS)
    assert "MONGO_ROOT_PASSWORD is not set" in run_script(MONGO_DIR / "init.js", PASSWORDS)["error"]
