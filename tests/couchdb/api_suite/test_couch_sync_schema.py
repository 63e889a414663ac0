"""tests/sessions/test_sync_schema.py, unchanged, on the couchdb backend."""

from tests.sessions.test_sync_schema import *  # noqa: F403
