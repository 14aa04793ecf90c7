"""URL map of the gateway."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from linkmesh_gateway import views

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
    r.add_get("/healthz", views.healthz)
    r.add_get("/readyz", views.readyz)
    r.add_post("/gladly/v1/apps/{app_id}/lookup", views.gladly_lookup)
    r.add_get("/gladly/v1/apps/{app_id}/actions/{action}", views.gladly_lookup)
    r.add_post("/gladly/v1/apps/{app_id}/actions/{action}", views.gladly_lookup)
    r.add_get("/api/v1/openapi.json", views.openapi)
    r.add_get("/api/v1/connectors", views.list_connectors)
    r.add_get("/api/v1/auth/config", views.auth_config)
    r.add_get("/api/v1/me", views.whoami)
    r.add_post("/api/v1/api-keys", views.create_api_key)
    r.add_get("/api/v1/api-keys", views.list_api_keys)
    r.add_delete("/api/v1/api-keys/{key_id}", views.revoke_api_key)
    r.add_get("/api/v1/audit", views.list_audit)
    r.add_post("/api/v1/apps", views.create_app)
    r.add_get("/api/v1/apps", views.list_apps)
    r.add_get("/api/v1/apps/{app_id}", views.get_app)
    r.add_patch("/api/v1/apps/{app_id}", views.update_app)
    r.add_delete("/api/v1/apps/{app_id}", views.delete_app)
    r.add_post("/api/v1/apps/{app_id}/activate", views.activate_app)
    r.add_post("/api/v1/apps/{app_id}/deactivate", views.deactivate_app)
    r.add_get("/api/v1/apps/{app_id}/lookups", views.list_lookups)
    r.add_post("/api/v1/debugger/lookup", views.debug_lookup)
    r.add_post("/api/v1/contacts", views.record_contact)
    r.add_post("/api/v1/self-service/identify", views.self_service_identify)
    r.add_post("/api/v1/customers", views.create_customer)
    r.add_get("/api/v1/customers", views.find_customers)
    r.add_get("/api/v1/customer-directory", views.customer_directory)
    r.add_get("/api/v1/customers/{customer_id}", views.get_customer)
    r.add_patch("/api/v1/customers/{customer_id}", views.update_customer)
    r.add_get("/api/v1/customers/{customer_id}/search-targets", views.search_targets)
    r.add_post("/api/v1/customers/{customer_id}/external-search", views.external_search)
    r.add_post("/api/v1/customers/{customer_id}/links", views.link_customer)
    r.add_delete("/api/v1/customers/{customer_id}/links", views.unlink_customer)
    r.add_delete("/api/v1/customers/{customer_id}/links/{app_id}", views.unlink_customer)
    r.add_post("/api/v1/customers/{customer_id}/actions", views.run_action)
    r.add_get("/api/v1/customers/{customer_id}/action-form", views.action_form)
