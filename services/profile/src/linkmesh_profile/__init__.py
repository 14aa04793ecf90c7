"""linkmesh profile service: customers, apps, links and lookups, in MongoDB."""
