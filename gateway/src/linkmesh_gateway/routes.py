"""URL map of the gateway."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from linkmesh_gateway.views import adaptor, admin, customers, events, privacy, system, watch

STATIC = Path(__file__).parent / "static"


async def console(request: web.Request) -> web.FileResponse:
    """The web console: a static page that calls this API with the user's token."""
    return web.FileResponse(STATIC / "index.html")


async def no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", console)
    r.add_get("/sidebar", console)  # the same console, laid out for a helpdesk's sidebar (320-420 px)
    r.add_get("/favicon.ico", no_icon)
    r.add_static("/console/", STATIC, append_version=False)
    r.add_get("/healthz", system.healthz)
    r.add_get("/readyz", system.readyz)
    r.add_post("/gladly/v1/apps/{app_id}/lookup", adaptor.gladly_lookup)
    r.add_post("/webhooks/v1/apps/{app_id}", events.receive_event)
    r.add_get("/gladly/v1/apps/{app_id}/actions/{action}", adaptor.gladly_action_form)
    r.add_post("/gladly/v1/apps/{app_id}/actions/{action}", adaptor.gladly_action_run)
    r.add_get("/api/v1/openapi.json", system.openapi)
    r.add_get("/api/v1/connectors", admin.list_connectors)
    r.add_get("/api/v1/auth/config", system.auth_config)
    r.add_get("/api/v1/me", system.whoami)
    r.add_post("/api/v1/api-keys", admin.create_api_key)
    r.add_get("/api/v1/api-keys", admin.list_api_keys)
    r.add_delete("/api/v1/api-keys/{key_id}", admin.revoke_api_key)
    r.add_get("/api/v1/audit", admin.list_audit)
    r.add_post("/api/v1/apps", admin.create_app)
    r.add_get("/api/v1/apps", admin.list_apps)
    r.add_get("/api/v1/apps/{app_id}", admin.get_app)
    r.add_patch("/api/v1/apps/{app_id}", admin.update_app)
    r.add_delete("/api/v1/apps/{app_id}", admin.delete_app)
    r.add_post("/api/v1/apps/{app_id}/activate", admin.activate_app)
    r.add_post("/api/v1/apps/{app_id}/deactivate", admin.deactivate_app)
    r.add_get("/api/v1/apps/{app_id}/lookups", admin.list_lookups)
    r.add_get("/api/v1/lookups", admin.list_lookups)
    r.add_post("/api/v1/debugger/lookup", admin.debug_lookup)
    r.add_post("/api/v1/contacts", customers.record_contact)
    r.add_post("/api/v1/self-service/identify", customers.self_service_identify)
    r.add_post("/api/v1/customers", customers.create_customer)
    r.add_get("/api/v1/customers", customers.find_customers)
    r.add_get("/api/v1/customer-directory", customers.customer_directory)
    r.add_get("/api/v1/customers/{customer_id}", customers.get_customer)
    r.add_patch("/api/v1/customers/{customer_id}", customers.update_customer)
    r.add_get("/api/v1/customers/{customer_id}/changes", watch.watch_customer)
    r.add_get("/api/v1/customers/{customer_id}/export", privacy.export_customer)
    r.add_post("/api/v1/customers/{customer_id}/erase", privacy.erase_customer)
    r.add_get("/api/v1/customers/{customer_id}/search-targets", customers.search_targets)
    r.add_post("/api/v1/customers/{customer_id}/external-search", customers.external_search)
    r.add_post("/api/v1/customers/{customer_id}/links", customers.link_customer)
    r.add_delete("/api/v1/customers/{customer_id}/links", customers.unlink_customer)
    r.add_delete("/api/v1/customers/{customer_id}/links/{app_id}", customers.unlink_customer)
    r.add_post("/api/v1/customers/{customer_id}/actions", customers.run_action)
    r.add_get("/api/v1/customers/{customer_id}/action-form", customers.action_form)
