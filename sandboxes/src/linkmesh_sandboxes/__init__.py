"""Vendor API sandboxes: small aiohttp servers that imitate each vendor's REST API
from its published specification, seeded with demo data."""
