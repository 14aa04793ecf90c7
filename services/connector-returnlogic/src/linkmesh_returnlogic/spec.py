"""The ReturnLogic connector's declaration (entry point ``linkmesh.connectors``)."""

from linkmesh_core.connector_spec import ConnectorSpec

SPEC = ConnectorSpec(
    type="returnlogic",
    display_name="ReturnLogic",
    module="linkmesh_returnlogic",
    command="linkmesh-connector-returnlogic",
    port=50063,
    sandbox="linkmesh_sandboxes.returnlogic.sandbox:SANDBOX",
    sandbox_port=8383,
)
