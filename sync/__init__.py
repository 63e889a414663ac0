"""CouchDB-compatible storage and replication for Branchline. Never imports `api`."""
