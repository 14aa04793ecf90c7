"""Entry point: ``linkmesh-connector-bigcommerce`` (configuration from the environment, see
``linkmesh_core.connector.ConnectorSettings``)."""

from __future__ import annotations

from linkmesh_bigcommerce.client import BigCommerceClient, BigCommerceErrors, BigCommerceRateLimit
from linkmesh_bigcommerce.connector import BigCommerce
from linkmesh_core import sdk
from linkmesh_core.vendor_http import VendorHTTP


def main() -> None:
    sdk.serve(
        "connector-bigcommerce",
        lambda s: VendorHTTP(
            "BigCommerce",
            rate_limit=BigCommerceRateLimit(),
            errors=BigCommerceErrors(),
            max_attempts=s.vendor_attempts,
            allow_private_hosts=s.allow_private_vendor_hosts,
            budget=s.budget("BigCommerce"),
        ),
        lambda http: BigCommerce(BigCommerceClient(http)),
    )


if __name__ == "__main__":
    main()
