"""Entry point: ``linkmesh-connector-lookup-adaptor`` (configuration from the environment, see
``linkmesh_core.connector.ConnectorSettings``)."""

from __future__ import annotations

from linkmesh_core import sdk
from linkmesh_core.vendor_http import RetryAfter, VendorHTTP
from linkmesh_lookup_adaptor.client import AdaptorClient, AdaptorErrors
from linkmesh_lookup_adaptor.connector import LookupAdaptorConnector

PROTOCOL_BUDGET_S = 15.0  # Gladly waits 15 s for an adaptor's answer; so does this connector


def main() -> None:
    sdk.serve(
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
        lambda http: LookupAdaptorConnector(AdaptorClient(http)),
        max_timeout_s=PROTOCOL_BUDGET_S,
    )


if __name__ == "__main__":
    main()
