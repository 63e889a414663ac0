"""tests/sessions/test_session_access_sync.py, unchanged, on the couchdb backend."""

from tests.sessions.test_session_access_sync import *  # noqa: F403
