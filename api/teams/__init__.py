"""Teams (groups of a tenant's users) and the trees they scope (DOCUMENTS.md, "Teams")."""
