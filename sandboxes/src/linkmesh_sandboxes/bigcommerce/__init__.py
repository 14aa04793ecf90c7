"""BigCommerce sandbox: Customers V3, Orders V2, Catalog V3 and Store Information V2."""
