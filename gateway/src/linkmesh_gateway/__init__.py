"""linkmesh HTTP gateway: authentication, the REST API and the fan-out search."""
