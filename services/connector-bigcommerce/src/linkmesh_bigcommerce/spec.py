"""The BigCommerce connector's declaration (entry point ``linkmesh.connectors``)."""

from linkmesh_core.connector_spec import ConnectorSpec

SPEC = ConnectorSpec(
    type="bigcommerce",
    display_name="BigCommerce",
    module="linkmesh_bigcommerce",
    command="linkmesh-connector-bigcommerce",
    port=50061,
    sandbox="linkmesh_sandboxes.bigcommerce.sandbox:SANDBOX",
    sandbox_port=8181,
)
