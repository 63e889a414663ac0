"""API keys for connectors and scripts: shown once, stored hashed, each with a role."""
