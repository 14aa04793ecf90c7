"""Who may touch what in MongoDB: one database user per service, one role per kind of service.

- ``linkmeshProfile`` (the user ``profile``): the profile service's collections, read and
  write, but the audit log, which it may only read and append to.
- ``linkmeshConnector`` (one user per connector, named as the connector's service, e.g.
  ``connector-shopify``): the shared vendor budgets and nothing else, so a compromised
  connector cannot read an app's encrypted secrets, a customer or a trace.
- the gateway has no database user: it reaches MongoDB only through the profile service.

Written into ``deploy/kubernetes/base/mongo/linkmesh-users.js`` by ``make deploy-files`` (the
script that creates the roles and users, run by compose's MongoDB on its first start and by
the Kubernetes replica set's first member). Each user's password comes from the variable
``LINKMESH_DB_PASSWORD_<USER>`` (upper case, ``-`` as ``_``). ``python -m
linkmesh_devstack.database_users compose-env`` prints new random passwords for a compose ``.env``;
``kubernetes-secret`` prints the Secret ``linkmesh-database`` for ``kubectl apply -f -``.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets

from linkmesh_core import budget
from linkmesh_core.connector_spec import ConnectorSpec, discover
from linkmesh_profile.db import collections
from linkmesh_profile.db import queries as q

DATABASE = "linkmesh"
PROFILE_USER, PROFILE_ROLE, CONNECTOR_ROLE = "profile", "linkmeshProfile", "linkmeshConnector"
ROOT_PASSWORD = "MONGO_ROOT_PASSWORD"
KEYFILE = "mongo-keyfile"
READ_WRITE = ["find", "insert", "update", "remove", "createCollection", "createIndex", "dropIndex", "listIndexes"]
APPEND_ONLY = ["find", "insert", "createCollection", "createIndex", "listIndexes"]
# The audit log: never removed from by the service (its retention's TTL index expires entries);
# updated only to pseudonymise an erased customer's entries (docs/privacy.md).
AUDIT_GRANTS = [*APPEND_ONLY, "update", "dropIndex", "collMod"]
RETAINED = (q.TRACES, q.ACTIONS)  # their TTL indexes follow the retention settings when they change


def profile_collections() -> list[str]:
    """Every collection the profile service writes but the audit log (which it only appends to)."""
    return [c for c in collections.names() if c != q.AUDIT]


def roles() -> dict[str, list[tuple[str, list[str]]]]:
    """{role: [(collection, actions)]}."""
    return {
        # collMod on the collections a retention setting keeps: their TTL indexes follow it when it changes.
        PROFILE_ROLE: [
            *((c, [*READ_WRITE, "collMod"] if c in RETAINED else READ_WRITE) for c in profile_collections()),
            (q.AUDIT, AUDIT_GRANTS),
        ],
        CONNECTOR_ROLE: [(budget.COLLECTION, READ_WRITE)],
    }


def users(specs: list[ConnectorSpec]) -> dict[str, str]:
    """{user: role}: the profile service's, then each connector's."""
    return {PROFILE_USER: PROFILE_ROLE, **{spec.name: CONNECTOR_ROLE for spec in specs}}


def password_variable(user: str) -> str:
    return "LINKMESH_DB_PASSWORD_" + user.upper().replace("-", "_")


def script_lines(specs: list[ConnectorSpec]) -> list[str]:
    """The generated part of linkmesh-users.js."""
    out = [f"const DATABASE = {json.dumps(DATABASE)};", "const ROLES = {"]
    for role, grants in roles().items():
        out += [f"  {json.dumps(role)}: [", *(f"    {json.dumps([c, a])}," for c, a in grants), "  ],"]
    out += ["};", "const USERS = {", *(f"  {json.dumps(u)}: {json.dumps(r)}," for u, r in users(specs).items()), "};"]
    return out


def compose_uri(user: str) -> str:
    """The MONGODB_URI of ``user`` in docker-compose.yml (its password from the environment)."""
    variable = password_variable(user)
    return (
        f"mongodb://{user}:${{{variable}:?set {variable} (make compose-env)}}@mongo:27017/{DATABASE}"
        f"?authSource={DATABASE}&w=majority&journal=true"
    )


def compose_mongo_env(specs: list[ConnectorSpec]) -> list[str]:
    return [f"{password_variable(u)}: ${{{password_variable(u)}:?set {password_variable(u)} (make compose-env)}}" for u in users(specs)]


def kubernetes_password_env(specs: list[ConnectorSpec]) -> list[str]:
    """The mongo StatefulSet's environment: every user's password, from the Secret."""
    return [f"- {{name: {password_variable(u)}, valueFrom: {{secretKeyRef: {{name: linkmesh-database, key: {u}}}}}}}" for u in users(specs)]


def new_values(specs: list[ConnectorSpec]) -> dict[str, str]:
    """Fresh random values: MongoDB's root password, the replica set's key file, every user's
    password (hex: safe inside a connection string)."""
    keyfile = base64.b64encode(secrets.token_bytes(756)).decode()
    return {"root-password": secrets.token_hex(24), KEYFILE: keyfile, **{u: secrets.token_hex(24) for u in users(specs)}}


def compose_env(specs: list[ConnectorSpec]) -> str:
    """A compose ``.env``: the database's passwords, the key that encrypts vendor secrets and one
    API token per role, all new and random."""
    from cryptography.fernet import Fernet

    values = new_values(specs)
    tokens = ",".join(f"{role}:{secrets.token_urlsafe(32)}" for role in ("admin", "agent", "developer"))
    lines = [
        f"LINKMESH_SECRET_KEYS={Fernet.generate_key().decode()}",
        f"LINKMESH_TOKENS={tokens}",
        f"{ROOT_PASSWORD}={values['root-password']}",
        *(f"{password_variable(u)}={values[u]}" for u in users(specs)),
    ]
    return "\n".join(lines) + "\n"


def kubernetes_secret(specs: list[ConnectorSpec], namespace: str) -> str:
    values = new_values(specs)
    doc = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "linkmesh-database", "namespace": namespace},
        "stringData": values,
    }
    return json.dumps(doc, indent=2) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="linkmesh_devstack.database_users", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["compose-env", "kubernetes-secret"])
    parser.add_argument("--namespace", default="linkmesh")
    args = parser.parse_args()
    specs = list(discover().values())
    print(compose_env(specs) if args.what == "compose-env" else kubernetes_secret(specs, args.namespace), end="")


if __name__ == "__main__":
    main()
