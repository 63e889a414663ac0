"""Branchline HTTP API (FastAPI)."""
