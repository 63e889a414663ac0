"""tests/sync/test_http_local.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_local import *  # noqa: F403
