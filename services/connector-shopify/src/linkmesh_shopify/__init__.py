"""linkmesh Lookup connector for Shopify."""
