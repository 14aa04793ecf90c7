"""The Custom lookup adaptor connector's declaration (entry point ``linkmesh.connectors``)."""

from linkmesh_core.connector_spec import ConnectorSpec

SPEC = ConnectorSpec(
    type="lookup_adaptor",
    display_name="Custom lookup adaptor",
    module="linkmesh_lookup_adaptor",
    command="linkmesh-connector-lookup-adaptor",
    port=50064,
    sandbox="linkmesh_sandboxes.lookup_adaptor.sandbox:SANDBOX",
    sandbox_port=8484,
)
