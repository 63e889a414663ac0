"""Tenants (one MSP each) and their databases."""
