"""The vendors' change events (webhooks): received and kept once (``receive``), then applied to
the one link each concerns, once across replicas (``consumer``)."""
