"""Unlink: every system at once (Gladly's rule) or one, and what they pulled onto the profile.

One write decided from one read, on condition that no link write came between them: every
write that changes a customer's links or what they pulled counts in ``links_version``, and an
unlink writes only on the count it read; when another write came between, it reads and
decides again (a link written meanwhile is removed too, with its pulled values).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc

from linkmesh_core.errors import ServiceError, failed_precondition
from linkmesh_profile.customers.profiles import require_customer
from linkmesh_profile.db.search_keys import ORDER_SEPARATOR
from linkmesh_profile.db.store import LINKS_VERSION, Store, now
from linkmesh_profile.linking import checkpoints
from linkmesh_profile.linking.merge import unlink_cleanup

if TYPE_CHECKING:
    from linkmesh_profile.model.customer import Customer

UNLINK_ATTEMPTS = 5


def unlink_update(customer: Customer, only: str | None) -> dict[str, Any]:
    """The write that unlinks ``only`` (or every app) from the customer as read."""
    app_ids = [only] if only is not None else list(customer.links)
    set_, unset = unlink_cleanup(customer, set(app_ids))
    if only is None:
        update: dict[str, Any] = {"$set": {**set_, "links": {}, "link_keys": [], "order_keys": [], "updated_at": now()}}
    else:
        unset[f"links.{only}"] = ""
        update = {
            "$set": {**set_, "updated_at": now()},
            "$pull": {
                "link_keys": {"$in": [k for k in customer.link_keys if k.startswith(f"{only}:")]},
                "order_keys": {"$in": [k for k in customer.order_keys if k.endswith(f"{ORDER_SEPARATOR}{only}")]},
            },
        }
    if unset:
        update["$unset"] = unset
    if app_ids:
        update["$addToSet"] = {"unlinked_apps": {"$each": app_ids}}
    update["$inc"] = {LINKS_VERSION: 1}
    return update


async def unlink(store: Store, customer_id: str, only: str | None) -> Customer:
    """Unlinks ``only`` (None: every app); answers the customer as written."""
    for _ in range(UNLINK_ATTEMPTS):
        customer = await require_customer(store, customer_id)
        if only is not None and only not in customer.links:
            raise failed_precondition(f"the customer is not linked to app {only}")
        update = unlink_update(customer, only)
        await checkpoints.reached("unlink.before_write")
        updated = await store.update_customer(customer_id, update, {LINKS_VERSION: customer.links_version})
        if updated is not None:
            return updated
    raise ServiceError(grpc.StatusCode.ABORTED, "the customer's links kept changing while unlinking; try again")
