"""Apps (integrations): validation against the connector's Describe and
ValidateApp, secrets encrypted at rest and never returned."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.errors import invalid_argument, not_found
from linkmesh_profile.admin.app_rules import FILLED_RESULT_ATTRIBUTES, check_shape, default_result_attributes
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.linking.merge import unlink_cleanup
from linkmesh_profile.model.app import App, Attribute, Serving

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from linkmesh_profile.admin.secret_box import SecretBox
    from linkmesh_profile.connectors.registry import ConnectorRegistry

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


def _attributes(items: Iterable[profile_pb2.Attribute]) -> tuple[Attribute, ...]:
    return tuple(Attribute(a.attribute.strip(), a.label.strip()) for a in items)


def _frozen(values: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(values))


def _merged(current: Mapping[str, str], given: Mapping[str, str], *, strip: bool) -> dict[str, str]:
    """``current`` with ``given`` applied: a value sets a key, an empty value removes it."""
    out = dict(current)
    for key, value in given.items():
        if value.strip():
            out[key.strip()] = value.strip() if strip else value
        else:
            out.pop(key.strip(), None)
    return out


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

    async def _validate(self, app: App, plain_secrets: dict[str, str]) -> App:
        """The app as it will be stored (result attributes left empty get the connector's
        defaults); INVALID_ARGUMENT naming every bad field; calls ValidateApp when the shape is right."""
        errors: dict[str, str] = {}
        if not app.type:
            raise invalid_argument("the app is invalid", {"type": f"is required (one of: {', '.join(self.connectors.types)})"})
        self.connectors.get(app.type)
        describe = await self.connectors.describe(app.type)
        if not app.search_result_attributes:
            app = dataclasses.replace(app, search_result_attributes=default_result_attributes(describe))
        check_shape(app, set(plain_secrets), describe, errors)
        if app.active:
            answer = await self.connectors.validate_app(
                app.type, lookup_pb2.ValidateAppRequest(app=lookup_pb2.AppContext(settings=dict(app.settings), secrets=plain_secrets))
            )
            secret_names = {s.name for s in describe.settings if s.secret}
            for err in answer.errors:
                group = "secrets" if err.field in secret_names else "settings"
                errors[f"{group}.{err.field}"] = err.message
        if errors:
            raise invalid_argument("the app is invalid", errors)
        return app

    def _serving(self, current: Serving, given: profile_pb2.AdaptorServingInput) -> Serving:
        """The app's serving as a lookup adaptor, as stored: its secrets encrypted, write-only."""
        secrets = dict(current.secrets)
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
        return Serving(given.enabled, username, _frozen(secrets))

    def serving_secrets(self, app: App) -> dict[str, str]:
        """The serving secrets, decrypted (only the profile service ever holds them)."""
        return self.box.decrypt_all(dict(app.serving.secrets))

    async def create(self, data: profile_pb2.AppInput) -> App:
        stamp = now()
        draft = App(
            id=str(ObjectId()),
            type=data.type.strip(),
            name=data.name.strip(),
            active=data.active if data.HasField("active") else True,
            settings=_frozen(_merged({}, data.settings, strip=True)),
            search_query_attributes=_attributes(data.search_query_attributes),
            search_result_attributes=_attributes(data.search_result_attributes),
            auto_link_fields=tuple(f.strip() for f in data.auto_link_fields),
            overwrite_existing_values=data.overwrite_existing_values,
            actions_enabled=data.actions_enabled,
            serving=self._serving(Serving(), data.serving) if data.HasField("serving") else Serving(),
            created_at=stamp,
            updated_at=stamp,
        )
        secrets = {k.strip(): v for k, v in data.secrets.items() if v.strip()}
        app = await self._validate(draft, secrets)
        return await self.store.insert_app(dataclasses.replace(app, secrets=_frozen(self.box.encrypt_all(secrets))).to_doc())

    async def _check_secrets_follow(
        self, current: App, new_settings: Mapping[str, str], data: profile_pb2.AppInput, paths: list[str]
    ) -> None:
        """A secret goes only where the admin sent it: moving a setting the secrets are sent to
        (``api_base_url``) needs every stored secret entered again in the same request."""
        describe = await self.connectors.describe(current.type)
        moved = [
            spec.name
            for spec in describe.settings
            if spec.credentials_destination
            and (new_settings.get(spec.name) or spec.default_value) != (current.settings.get(spec.name) or spec.default_value)
        ]
        if not moved:
            return
        given = {k.strip() for k, v in data.secrets.items() if v.strip()} if "secrets" in paths else set()
        missing = [name for name in sorted(current.secrets) if name not in given]
        if missing:
            where = " and ".join(f"settings.{m}" for m in moved)
            errors = {
                f"settings.{m}": f"sends the app's secrets to a new host: enter {', '.join(f'secrets.{n}' for n in missing)} again in the same request"
                for m in moved
            }
            errors.update({f"secrets.{n}": f"is required again when {where} changes" for n in missing})
            raise invalid_argument("changing where the app's secrets are sent needs the secrets again", errors)

    def _changes(self, current: App, data: profile_pb2.AppInput, paths: list[str]) -> dict[str, Any]:
        """The fields ``paths`` names, from ``data``, as the app holds them (secrets apart)."""
        given: dict[str, Any] = {
            "name": data.name.strip(),
            "settings": _frozen(_merged(current.settings, data.settings, strip=True)),
            "search_query_attributes": _attributes(data.search_query_attributes),
            "search_result_attributes": _attributes(data.search_result_attributes),
            "auto_link_fields": tuple(f.strip() for f in data.auto_link_fields),
            "overwrite_existing_values": data.overwrite_existing_values,
            "actions_enabled": data.actions_enabled,
            "active": data.active if data.HasField("active") else True,
        }
        changes = {path: given[path] for path in paths if path in given}
        if "serving" in paths:
            changes["serving"] = self._serving(current.serving, data.serving)
        return changes

    async def update(self, app_id: str, data: profile_pb2.AppInput, paths: list[str]) -> App:
        current = await self.require(app_id)
        bad = {p: f"cannot be updated (updatable: {', '.join(UPDATABLE)})" for p in paths if p not in UPDATABLE}
        if not paths:
            bad["update_mask"] = f"name at least one of: {', '.join(UPDATABLE)}"
        if bad:
            raise invalid_argument("the update is invalid", bad)
        draft = dataclasses.replace(current, **self._changes(current, data, paths))
        secrets = self.box.decrypt_all(dict(current.secrets))
        if "secrets" in paths:
            secrets = _merged(secrets, data.secrets, strip=False)
        await self._check_secrets_follow(current, draft.settings, data, paths)
        app = await self._validate(draft, secrets)
        return await self.store.replace_app(
            dataclasses.replace(app, secrets=_frozen(self.box.encrypt_all(secrets)), updated_at=now()).to_doc()
        )

    async def delete(self, app_id: str) -> None:
        """Deletes the app and, as unlink does, its links and the data pulled from it."""
        await self.require(app_id)
        async for customer in self.store.customers_linked_to(app_id):
            set_, unset = unlink_cleanup(customer, {app_id})
            await self.store.drop_app_link(customer.oid, app_id, set_, unset)
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
