"""Entry point: ``linkmesh-connector-shopify`` (configuration from the environment, see
``linkmesh_core.connector.ConnectorSettings``)."""

from __future__ import annotations

from linkmesh_core import sdk
from linkmesh_core.vendor_http import RetryAfter, VendorHTTP
from linkmesh_shopify.client import ShopifyClient, ShopifyErrors
from linkmesh_shopify.connector import Shopify


def main() -> None:
    sdk.serve(
        "connector-shopify",
        # Shopify's limit is a cost bucket per shop, read from every answer (linkmesh_shopify.client);
        # a 429 (seen from Shopify's edge) waits as Retry-After says. The budget carries holds to every replica.
        lambda s: VendorHTTP(
            "Shopify",
            rate_limit=RetryAfter(),
            errors=ShopifyErrors(),
            max_attempts=s.vendor_attempts,
            allow_private_hosts=s.allow_private_vendor_hosts,
            budget=s.budget("Shopify"),
        ),
        lambda http: Shopify(ShopifyClient(http)),
    )


if __name__ == "__main__":
    main()
