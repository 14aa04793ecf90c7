"""Magento 2 / Adobe Commerce sandbox: customers/search, orders, shipments, products, store configs."""
