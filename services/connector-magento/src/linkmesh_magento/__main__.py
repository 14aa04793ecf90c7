"""Entry point: ``linkmesh-connector-magento`` (configuration from the environment, see
``linkmesh_core.connector.ConnectorSettings``)."""

from __future__ import annotations

from linkmesh_core import sdk
from linkmesh_core.vendor_http import RetryAfter, VendorHTTP
from linkmesh_magento.client import MagentoClient, MagentoErrors
from linkmesh_magento.connector import Magento


def main() -> None:
    sdk.serve(
        "connector-magento",
        lambda s: VendorHTTP(
            "Magento",
            rate_limit=RetryAfter(),
            errors=MagentoErrors(),
            max_attempts=s.vendor_attempts,
            allow_private_hosts=s.allow_private_vendor_hosts,
            budget=s.budget("Magento"),
        ),
        lambda http: Magento(MagentoClient(http)),
    )


if __name__ == "__main__":
    main()
