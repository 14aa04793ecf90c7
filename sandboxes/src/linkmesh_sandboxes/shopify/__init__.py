"""Shopify sandbox: the Admin GraphQL API 2025-01, every query validated against Shopify's own schema."""
