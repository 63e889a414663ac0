"""tests/sync/test_http_policy.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_policy import *  # noqa: F403
