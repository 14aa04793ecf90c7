"""Any custom lookup adaptor (Gladly's Lookup Adaptor protocol), written against the connector SDK.

Search is a BASIC lookup: an agent's search sends what was typed by the app's search
attributes' names (``{"email": ...}``, ``{"phone": ...}``), an auto-link sends the profile
(``emails``, ``phones``, ``name``, ``id``). Fetch is a DETAILED lookup of
``externalCustomerId`` with the profile's emails and phones. The actions are the ones each
record offers (``actions`` with ``formUrl`` on a customer, an order or a transaction):
GetActionForm reads one's form, RunAction checks the values against the form, read again,
and posts them once to its ``actionUrl``.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core import sdk
from linkmesh_core.actions import validate_params
from linkmesh_core.app_settings import check_region, check_secret, check_url, region_of
from linkmesh_core.errors import NOT_SENT, ServiceError, invalid_argument, not_found
from linkmesh_core.vendor_http import Deadline
from linkmesh_lookup_adaptor import mapping
from linkmesh_lookup_adaptor.client import Adaptor, AdaptorClient

SETTINGS = [
    lookup_pb2.SettingSpec(
        name="url",
        label="Lookup URL",
        required=True,
        credentials_destination=True,
        hint="The adaptor's lookup endpoint (https://...); action forms are read relative to it.",
    ),
    lookup_pb2.SettingSpec(
        name="signing_key",
        label="Signing key",
        required=True,
        secret=True,
        hint="The key every request is signed with (Gladly-Authorization, HMAC-SHA256).",
    ),
    lookup_pb2.SettingSpec(name="username", label="Username", required=False, hint="HTTP Basic username, if the adaptor asks for one."),
    lookup_pb2.SettingSpec(name="password", label="Password", required=False, secret=True, hint="HTTP Basic password."),
    lookup_pb2.SettingSpec(
        name="default_region",
        label="Default phone region",
        required=False,
        default_value="US",
        hint="Where phone numbers without a country code are read.",
    ),
]


def adaptor_of(app: sdk.App) -> Adaptor:
    """The app's adaptor; ``SettingsInvalid`` names each setting that is wrong."""
    errors: dict[str, str] = {}
    url = check_url(app, "url", errors, required=True)
    key = check_secret(app, "signing_key", errors)
    username = app.settings.get("username", "").strip()
    password = app.secrets.get("password", "")
    if username and not password:
        errors["password"] = "is required with a username"
    if password and not username:
        errors["username"] = "is required with a password"
    check_region(app, errors)
    if errors:
        raise sdk.SettingsInvalid(errors)
    return Adaptor(url, key, username, password)


def profile_query(profile: lookup_pb2.ProfileHint) -> dict[str, object]:
    query: dict[str, object] = {}
    if profile.emails:
        query["emails"] = list(profile.emails)
    if profile.phones:
        query["phones"] = list(profile.phones)
    if profile.name:
        query["name"] = profile.name
    if profile.id:
        query["id"] = profile.id
    return query


def one_or_many(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


class LookupAdaptorConnector(sdk.Connector[Adaptor]):
    description = sdk.Description(
        vendor="lookup_adaptor",
        display_name="Custom lookup adaptor",
        search_by=("email", "phone"),
        auto_link_by=("email", "phone"),
        settings=SETTINGS,
        called="the lookup adaptor",
    )
    base_url_field = "url"

    def __init__(self, client: AdaptorClient) -> None:
        self.client = client

    def account(self, app: sdk.App) -> Adaptor:
        return adaptor_of(app)

    def refusals_for(self, adaptor: Adaptor) -> Mapping[grpc.StatusCode, tuple[str | tuple[str, ...], str]]:
        basic = bool(adaptor.username)
        refused = "the adaptor refused the request: check the signing key" + (", the username and the password" if basic else "")
        return {
            grpc.StatusCode.UNAUTHENTICATED: (("signing_key", "password") if basic else "signing_key", refused),
            grpc.StatusCode.NOT_FOUND: ("url", "no lookup adaptor answers at this URL (404)"),
            grpc.StatusCode.INVALID_ARGUMENT: ("url", "the adaptor refused a BASIC lookup: is this its lookup URL?"),
        }

    async def prove(self, adaptor: Adaptor, deadline: Deadline) -> None:
        await self.client.probe(adaptor, deadline)

    async def search(self, adaptor: Adaptor, query: sdk.Query, deadline: Deadline) -> list[lookup_pb2.CustomerSummary]:
        emails, phones = list(query.emails), list(query.phones)
        if query.auto_link:
            asked = {**profile_query(query.profile), "emails": emails, "phones": phones}
            asked = {k: v for k, v in asked.items() if v}
        else:  # an agent's search: what was typed, by the search attributes' names
            asked = {**({"email": one_or_many(emails)} if emails else {}), **({"phone": one_or_many(phones)} if phones else {})}
        results = await self.client.lookup(adaptor, "BASIC", asked, deadline)
        return [c for c in (mapping.summary(r, query.region) for r in results) if c is not None]

    async def fetch(self, adaptor: Adaptor, request: lookup_pb2.FetchRequest, deadline: Deadline) -> lookup_pb2.Customer:
        external_id = request.external_id.strip()
        if not external_id:
            raise invalid_argument("external_id is required", {"external_id": "is required"})
        query = {**profile_query(request.profile), "externalCustomerId": external_id}
        results = await self.client.lookup(adaptor, "DETAILED", query, deadline, unique=True)
        match = [r for r in results if mapping.text(r.get("externalCustomerId")) == external_id]
        if not match and len(results) == 1 and not mapping.text(results[0].get("externalCustomerId")):
            match = results  # one result that does not repeat the id it was asked for
        if not match:
            raise not_found(f"the adaptor has no customer {external_id}")
        return mapping.customer(match[0], region_of(request.app), request.max_orders or 10)

    async def action_form(self, adaptor: Adaptor, request: lookup_pb2.GetActionFormRequest, deadline: Deadline) -> lookup_pb2.ActionForm:
        if not request.form_url.strip():
            raise invalid_argument("form_url is required", {"form_url": "is required"})
        _, answer = await self.client.form(adaptor, request.form_url, deadline)
        return mapping.form(answer)

    async def run_action(self, adaptor: Adaptor, request: lookup_pb2.RunActionRequest, deadline: Deadline) -> lookup_pb2.RunActionResponse:
        """Reads the form again (what it asks may have changed), checks the values against
        it, and posts them once. A 400 names the fields at fault; a 406 refuses the action."""
        if not request.form_url.strip():
            err = invalid_argument(
                "a lookup adaptor runs the actions its records offer: give the action's form_url", {"form_url": "is required"}
            )
            err.outcome = NOT_SENT
            raise err
        try:
            _, answer = await self.client.form(adaptor, request.form_url, deadline)
        except ServiceError as err:
            err.outcome = NOT_SENT  # only the form was read: nothing was posted
            raise
        form = mapping.form(answer)
        if not form.action_url:
            raise ServiceError(grpc.StatusCode.FAILED_PRECONDITION, "the adaptor's form has no actionUrl", outcome=NOT_SENT)
        spec = lookup_pb2.ActionSpec(name=request.action, label=form.title, fields=[f for f in form.fields if f.type != "note"])
        errors = validate_params(spec, request.params)
        if errors:
            refused = invalid_argument("the values do not fit the form", errors)
            refused.outcome = NOT_SENT
            raise refused
        done = await self.client.submit(adaptor, form.action_url, mapping.form_values(form, dict(request.params)), deadline)
        message = mapping.text(done.get("message")) or f"{form.title}: done"
        detail = mapping.text(done.get("detail"))
        return lookup_pb2.RunActionResponse(message=message, result={"detail": detail} if detail else {})
