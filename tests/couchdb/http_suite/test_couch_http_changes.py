"""tests/sync/test_http_changes.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_changes import *  # noqa: F403
