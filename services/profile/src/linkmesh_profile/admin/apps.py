"""Apps (integrations): validation against the connector's Describe and
ValidateApp, secrets encrypted at rest and never returned."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import invalid_argument, not_found
from linkmesh_profile.connectors.registry import ConnectorRegistry, field_names
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.linking.merge import unlink_cleanup

if TYPE_CHECKING:
    from linkmesh_profile.admin.secret_box import SecretBox
    from linkmesh_profile.model.app import App

QUERY_ATTRIBUTES = ("email", "phone")
FILLED_RESULT_ATTRIBUTES = ("name", "email", "phone", "externalCustomerId")
DEFAULT_RESULT_ATTRIBUTES = [
    {"attribute": "name", "label": "Name"},
    {"attribute": "email", "label": "Email"},
    {"attribute": "phone", "label": "Phone"},
    {"attribute": "externalCustomerId", "label": "Customer ID"},
]
AUTO_LINK_FIELDS = ("email", "phone")
UPDATABLE = (
    "name",
    "settings",
    "secrets",
    "search_query_attributes",
    "search_result_attributes",
    "auto_link_fields",
    "overwrite_existing_values",
    "actions_enabled",
    "active",
    "serving",
)
MIN_SIGNING_KEY = 16
MAX_NAME = 100


def _attributes(items: Any) -> list[dict[str, str]]:
    return [{"attribute": a.attribute.strip(), "label": a.label.strip()} for a in items]


def _check_shape(doc: dict[str, Any], describe: lookup_pb2.DescribeResponse, errors: dict[str, str]) -> None:
    """Everything that can be checked without calling the vendor."""
    name = doc["name"]
    if not name:
        errors["name"] = "is required"
    elif len(name) > MAX_NAME:
        errors["name"] = f"must be at most {MAX_NAME} characters"
    specs = {s.name: s for s in describe.settings}
    for key in doc["settings"]:
        spec = specs.get(key)
        if spec is None:
            errors[f"settings.{key}"] = f"unknown setting (known: {', '.join(s.name for s in describe.settings if not s.secret)})"
        elif spec.secret:
            errors[f"settings.{key}"] = "is a secret: send it in secrets"
    for key in doc["secret_names"]:
        spec = specs.get(key)
        if spec is None or not spec.secret:
            errors[f"secrets.{key}"] = "unknown secret"
    for spec in describe.settings:
        if not spec.required:
            continue
        if spec.secret and spec.name not in doc["secret_names"]:
            errors[f"secrets.{spec.name}"] = "is required"
        if not spec.secret and not doc["settings"].get(spec.name, "").strip():
            errors[f"settings.{spec.name}"] = "is required"

    searchable = field_names(list(describe.capabilities.search_fields))
    query = doc["search_query_attributes"]
    if not query:
        errors["search_query_attributes"] = "choose at least one of: email, phone"
    seen: set[str] = set()
    for i, item in enumerate(query):
        attribute = item["attribute"]
        if attribute not in QUERY_ATTRIBUTES:
            errors[f"search_query_attributes[{i}].attribute"] = "must be email or phone"
        elif attribute in seen:
            errors[f"search_query_attributes[{i}].attribute"] = f"{attribute} is listed twice"
        elif attribute not in searchable:
            errors[f"search_query_attributes[{i}].attribute"] = f"{describe.display_name} cannot search by {attribute}"
        seen.add(attribute)
        if not item["label"]:
            errors[f"search_query_attributes[{i}].label"] = "is required"
    seen = set()
    for i, item in enumerate(doc["search_result_attributes"]):
        if not item["attribute"]:
            errors[f"search_result_attributes[{i}].attribute"] = "is required"
        elif item["attribute"] in seen:
            errors[f"search_result_attributes[{i}].attribute"] = f"{item['attribute']} is listed twice"
        seen.add(item["attribute"])
        if not item["label"]:
            errors[f"search_result_attributes[{i}].label"] = "is required"
    linkable = field_names(list(describe.capabilities.auto_link_fields))
    for i, field in enumerate(doc["auto_link_fields"]):
        if field not in AUTO_LINK_FIELDS:
            errors[f"auto_link_fields[{i}]"] = "must be email or phone"
        elif field not in linkable:
            errors[f"auto_link_fields[{i}]"] = f"{describe.display_name} cannot auto-link by {field}"
    if len(set(doc["auto_link_fields"])) != len(doc["auto_link_fields"]):
        errors["auto_link_fields"] = "lists a field twice"


class AppService:
    def __init__(self, store: Store, connectors: ConnectorRegistry, box: SecretBox) -> None:
        self.store = store
        self.connectors = connectors
        self.box = box
        # app id -> (settings and encrypted secrets it was made from, AppContext)
        self._contexts: dict[str, tuple[tuple[Any, ...], lookup_pb2.AppContext]] = {}

    async def require(self, app_id: str) -> App:
        app = await self.store.get_app(app_id)
        if app is None:
            raise not_found(f"no app {app_id}")
        return app

    def context(self, app: App) -> lookup_pb2.AppContext:
        """The AppContext a connector needs: settings and decrypted secrets. Made once per
        version of the app's settings and secrets (decrypting on every call cost more than
        the rest of a lookup's bookkeeping); callers copy it into their request."""
        made_from = (app.settings, app.secrets)
        cached = self._contexts.get(app.id)
        if cached is not None and cached[0] == made_from:
            return cached[1]
        context = lookup_pb2.AppContext(app_id=app.id, settings=dict(app.settings), secrets=self.box.decrypt_all(dict(app.secrets)))
        self._contexts[app.id] = (made_from, context)
        return context

    async def _validate(self, doc: dict[str, Any], plain_secrets: dict[str, str]) -> None:
        """Raises INVALID_ARGUMENT naming every bad field; calls ValidateApp when the shape is right."""
        errors: dict[str, str] = {}
        if not doc["type"]:
            raise invalid_argument("the app is invalid", {"type": f"is required (one of: {', '.join(self.connectors.types)})"})
        self.connectors.get(doc["type"])
        describe = await self.connectors.describe(doc["type"])
        if not doc["search_result_attributes"]:
            # The defaults: what every connector fills, then what this one adds (ReturnLogic's RMA codes).
            doc["search_result_attributes"] = [dict(a) for a in DEFAULT_RESULT_ATTRIBUTES] + [
                {"attribute": a.attribute, "label": a.label} for a in describe.capabilities.result_attributes
            ]
        _check_shape(doc, describe, errors)
        if doc["active"]:
            answer = await self.connectors.validate_app(
                doc["type"], lookup_pb2.ValidateAppRequest(app=lookup_pb2.AppContext(settings=doc["settings"], secrets=plain_secrets))
            )
            secret_names = {s.name for s in describe.settings if s.secret}
            for err in answer.errors:
                group = "secrets" if err.field in secret_names else "settings"
                errors[f"{group}.{err.field}"] = err.message
        if errors:
            raise invalid_argument("the app is invalid", errors)

    def _doc_from_input(self, data: profile_pb2.AppInput) -> dict[str, Any]:
        """The app as stored; result attributes left empty get the defaults when validated."""
        return {
            "type": data.type.strip(),
            "name": data.name.strip(),
            "settings": {k.strip(): v.strip() for k, v in data.settings.items() if v.strip()},
            "search_query_attributes": _attributes(data.search_query_attributes),
            "search_result_attributes": _attributes(data.search_result_attributes),
            "auto_link_fields": [f.strip() for f in data.auto_link_fields],
            "overwrite_existing_values": data.overwrite_existing_values,
            "actions_enabled": data.actions_enabled,
            "active": data.active if data.HasField("active") else True,
        }

    def _serving(self, current: dict[str, Any], given: profile_pb2.AdaptorServingInput) -> dict[str, Any]:
        """The app's serving as a lookup adaptor, as stored: its secrets encrypted, write-only."""
        secrets = dict(current.get("secrets") or {})
        errors: dict[str, str] = {}
        key, username, password = given.signing_key.strip(), given.username.strip(), given.password.strip()
        if key:
            if len(key) < MIN_SIGNING_KEY:
                errors["serving.signing_key"] = f"must be at least {MIN_SIGNING_KEY} characters"
            secrets["signing_key"] = self.box.encrypt(key)
        if password:
            secrets["password"] = self.box.encrypt(password)
        if not username:
            secrets.pop("password", None)
            if password:
                errors["serving.username"] = "is required with a password"
        elif "password" not in secrets:
            errors["serving.password"] = "is required with a username"
        if given.enabled and "signing_key" not in secrets:
            errors["serving.signing_key"] = "is required to serve this app as a lookup adaptor"
        if errors:
            raise invalid_argument("the app's serving as a lookup adaptor is invalid", errors)
        return {"enabled": given.enabled, "username": username, "secrets": secrets}

    def serving_secrets(self, app: App) -> dict[str, str]:
        """The serving secrets, decrypted (only the profile service ever holds them)."""
        return self.box.decrypt_all(dict(app.serving.secrets))

    async def create(self, data: profile_pb2.AppInput) -> App:
        doc = self._doc_from_input(data)
        if data.HasField("serving"):
            doc["serving"] = self._serving({}, data.serving)
        secrets = {k.strip(): v for k, v in data.secrets.items() if v.strip()}
        doc["secret_names"] = sorted(secrets)
        await self._validate(doc, secrets)
        del doc["secret_names"]
        stamp = now()
        doc.update(secrets=self.box.encrypt_all(secrets), created_at=stamp, updated_at=stamp)
        return await self.store.insert_app(doc)

    async def _check_secrets_follow(
        self, current: dict[str, Any], new_settings: dict[str, str], data: profile_pb2.AppInput, paths: list[str]
    ) -> None:
        """A secret goes only where the admin sent it: moving a setting the secrets are sent to
        (``api_base_url``) needs every stored secret entered again in the same request."""
        describe = await self.connectors.describe(current["type"])
        moved = [
            spec.name
            for spec in describe.settings
            if spec.credentials_destination
            and (new_settings.get(spec.name) or spec.default_value) != (current.get("settings", {}).get(spec.name) or spec.default_value)
        ]
        if not moved:
            return
        given = {k.strip() for k, v in data.secrets.items() if v.strip()} if "secrets" in paths else set()
        missing = [name for name in sorted(current.get("secrets", {})) if name not in given]
        if missing:
            where = " and ".join(f"settings.{m}" for m in moved)
            errors = {
                f"settings.{m}": f"sends the app's secrets to a new host: enter {', '.join(f'secrets.{n}' for n in missing)} again in the same request"
                for m in moved
            }
            errors.update({f"secrets.{n}": f"is required again when {where} changes" for n in missing})
            raise invalid_argument("changing where the app's secrets are sent needs the secrets again", errors)

    async def update(self, app_id: str, data: profile_pb2.AppInput, paths: list[str]) -> App:
        current = (await self.require(app_id)).to_doc()
        bad = {p: f"cannot be updated (updatable: {', '.join(UPDATABLE)})" for p in paths if p not in UPDATABLE}
        if not paths:
            bad["update_mask"] = f"name at least one of: {', '.join(UPDATABLE)}"
        if bad:
            raise invalid_argument("the update is invalid", bad)
        given = self._doc_from_input(data)
        doc = dict(current)
        secrets = self.box.decrypt_all(current.get("secrets", {}))
        for path in paths:
            if path == "settings":
                merged = dict(current.get("settings", {}))
                for key, value in data.settings.items():
                    if value.strip():
                        merged[key.strip()] = value.strip()
                    else:
                        merged.pop(key.strip(), None)
                doc["settings"] = merged
            elif path == "secrets":
                for key, value in data.secrets.items():
                    if value.strip():
                        secrets[key.strip()] = value
                    else:
                        secrets.pop(key.strip(), None)
            elif path == "search_result_attributes":
                doc[path] = _attributes(data.search_result_attributes)
            elif path == "serving":
                doc["serving"] = self._serving(current.get("serving") or {}, data.serving)
            else:
                doc[path] = given[path]
        await self._check_secrets_follow(current, doc.get("settings", {}), data, paths)
        doc["secret_names"] = sorted(secrets)
        await self._validate(doc, secrets)
        del doc["secret_names"]
        doc.update(secrets=self.box.encrypt_all(secrets), updated_at=now())
        return await self.store.replace_app(doc)

    async def delete(self, app_id: str) -> None:
        """Deletes the app and, as unlink does, its links and the data pulled from it."""
        await self.require(app_id)
        async for customer in self.store.customers_linked_to(app_id):
            set_, unset = unlink_cleanup(customer, {app_id})
            await self.store.drop_app_link(customer["_id"], app_id, set_, unset)
        if not await self.store.delete_app(app_id):
            raise not_found(f"no app {app_id}")
        self.connectors.breakers.forget(app_id)
        self._contexts.pop(app_id, None)

    async def list(self) -> list[App]:
        return await self.store.list_apps()


def result_attributes(app: App, candidate: lookup_pb2.CustomerSummary) -> list[profile_pb2.AttributeValue]:
    """The app's configured result attributes, labelled; unknown ones come back empty."""
    values = {
        "name": candidate.name,
        "email": ", ".join(candidate.emails),
        "phone": ", ".join(p.number for p in candidate.phones),
        "externalCustomerId": candidate.external_id,
    }
    out = []
    for item in app.search_result_attributes:
        attribute = item.attribute
        value = values[attribute] if attribute in FILLED_RESULT_ATTRIBUTES else candidate.extra.get(attribute, "")
        out.append(profile_pb2.AttributeValue(attribute=attribute, label=item.label, value=value))
    return out
