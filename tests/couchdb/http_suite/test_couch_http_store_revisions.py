"""tests/sync/test_http_store_revisions.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_store_revisions import *  # noqa: F403
