"""tests/auth/test_auth.py, unchanged, on the couchdb backend."""

from tests.auth.test_auth import *  # noqa: F403
