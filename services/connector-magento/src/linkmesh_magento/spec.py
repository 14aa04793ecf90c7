"""The Magento 2 connector's declaration (entry point ``linkmesh.connectors``)."""

from linkmesh_core.connector_spec import ConnectorSpec

SPEC = ConnectorSpec(
    type="magento",
    display_name="Magento 2",
    module="linkmesh_magento",
    command="linkmesh-connector-magento",
    port=50062,
    sandbox="linkmesh_sandboxes.magento.sandbox:SANDBOX",
    sandbox_port=8282,
)
