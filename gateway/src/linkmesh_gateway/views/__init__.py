"""Request handlers of the REST API (``/api/v1``), one module per audience."""
