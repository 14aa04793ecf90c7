"""A person's data on request: exported, erased (docs/privacy.md)."""
