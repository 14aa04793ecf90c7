"""The Shopify connector's declaration (entry point ``linkmesh.connectors``)."""

from linkmesh_core.connector_spec import ConnectorSpec

SPEC = ConnectorSpec(
    type="shopify",
    display_name="Shopify",
    module="linkmesh_shopify",
    command="linkmesh-connector-shopify",
    port=50065,
    sandbox="linkmesh_sandboxes.shopify.sandbox:SANDBOX",
    sandbox_port=8585,
)
