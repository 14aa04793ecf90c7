"""A custom Lookup Adaptor (Gladly protocol) for a subscription and loyalty service."""
