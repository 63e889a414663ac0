"""tests/sessions/test_unshare_sticks.py, unchanged, on the couchdb backend."""

from tests.sessions.test_unshare_sticks import *  # noqa: F403
