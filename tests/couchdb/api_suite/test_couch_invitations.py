"""tests/auth/test_invitations.py, unchanged, on the couchdb backend."""

from tests.auth.test_invitations import *  # noqa: F403
