"""Run with the generated client importable: what a client generated from the gateway's OpenAPI
document does as an agent would. Prints one JSON line of what it saw."""

from __future__ import annotations

import json
import sys

from linkmesh_client import AuthenticatedClient
from linkmesh_client.api.customers import create_customer, get_customer
from linkmesh_client.api.linking import link_customer, list_search_targets, search_external, unlink_customer
from linkmesh_client.models import CustomerInput, Error, LinkRequest, SearchRequest


def main(base_url: str, token: str, email: str, search_email: str, app_id: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    customer = create_customer.sync(client=client, body=CustomerInput(name="Generated Client", emails=[email]))
    assert customer is not None and not isinstance(customer, Error), customer
    targets = list_search_targets.sync(client=client, customer_id=customer.id)
    assert targets is not None and not isinstance(targets, Error), targets
    found = search_external.sync(client=client, customer_id=customer.id, body=SearchRequest(app_id="all", email=search_email))
    assert found is not None and not isinstance(found, Error), found
    bigcommerce = next(r for r in found.results if r.app_id == app_id)
    linked = link_customer.sync(
        client=client,
        customer_id=customer.id,
        body=LinkRequest(app_id=bigcommerce.app_id, external_customer_id=bigcommerce.external_customer_id),
    )
    assert linked is not None and not isinstance(linked, Error), linked
    again = get_customer.sync(client=client, customer_id=customer.id)
    assert again is not None and not isinstance(again, Error), again
    missing = get_customer.sync(client=client, customer_id="000000000000000000000000")
    unlinked = unlink_customer.sync(client=client, customer_id=customer.id)
    assert unlinked is not None and not isinstance(unlinked, Error), unlinked
    print(
        json.dumps(
            {
                "customer_id": customer.id,
                "targets": sorted(t.app_id for t in targets.targets),
                "results": sorted(r.app_id for r in found.results),
                "linked": [(link.app_id, link.external_customer_id) for link in again.links],
                "bigcommerce_app": bigcommerce.app_id,
                "missing": [type(missing).__name__, missing.error.code if isinstance(missing, Error) else None],
                "links_after_unlink": len(unlinked.links),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
