"""Entry point: ``linkmesh-connector-returnlogic`` (configuration from the environment, see
``linkmesh_core.connector.ConnectorSettings``)."""

from __future__ import annotations

from linkmesh_core import sdk
from linkmesh_core.vendor_http import VendorHTTP
from linkmesh_returnlogic.client import WINDOWS, ReturnLogicClient, ReturnLogicErrors, ReturnLogicRateLimit, ReturnLogicUnavailable
from linkmesh_returnlogic.connector import ReturnLogic


def main() -> None:
    sdk.serve(
        "connector-returnlogic",
        lambda s: VendorHTTP(
            "ReturnLogic",
            rate_limit=ReturnLogicRateLimit(),
            errors=ReturnLogicErrors(),
            max_attempts=s.vendor_attempts,
            allow_private_hosts=s.allow_private_vendor_hosts,
            budget=s.budget("ReturnLogic", WINDOWS),
            unavailable_policy=ReturnLogicUnavailable(),
        ),
        lambda http: ReturnLogic(ReturnLogicClient(http)),
    )


if __name__ == "__main__":
    main()
