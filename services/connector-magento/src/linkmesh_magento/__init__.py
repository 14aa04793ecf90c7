"""linkmesh Lookup connector for Magento 2 / Adobe Commerce."""
