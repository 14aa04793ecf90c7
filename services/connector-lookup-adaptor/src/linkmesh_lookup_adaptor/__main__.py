"""Entry point: ``linkmesh-connector-lookup-adaptor`` (configuration from the environment, see
``linkmesh_core.connector.ConnectorSettings``)."""

from __future__ import annotations

from linkmesh_core.connector import run_connector
from linkmesh_core.vendor_http import RetryAfter, VendorHTTP
from linkmesh_lookup_adaptor.client import AdaptorClient, AdaptorErrors
from linkmesh_lookup_adaptor.servicer import LookupAdaptorLookup


def main() -> None:
    run_connector(
        "connector-lookup-adaptor",
        # An adaptor publishes no limits: a 429 waits as its Retry-After says, shared by every replica.
        lambda s: VendorHTTP(
            "the lookup adaptor",
            rate_limit=RetryAfter(),
            errors=AdaptorErrors(),
            max_attempts=s.vendor_attempts,
            allow_private_hosts=s.allow_private_vendor_hosts,
            budget=s.budget("lookup-adaptor"),
        ),
        lambda http, s: LookupAdaptorLookup(AdaptorClient(http), min(s.vendor_timeout_s, 15.0)),
    )


if __name__ == "__main__":
    main()
