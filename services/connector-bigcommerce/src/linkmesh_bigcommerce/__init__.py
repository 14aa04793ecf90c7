"""linkmesh Lookup connector for BigCommerce."""
