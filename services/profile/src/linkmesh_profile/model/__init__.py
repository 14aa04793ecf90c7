"""The profile service's domain types, read once from their documents at the store boundary."""
