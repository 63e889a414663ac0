"""Users of a tenant: roles, creation, deactivation, profile."""
