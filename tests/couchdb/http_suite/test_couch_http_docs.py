"""tests/sync/test_http_docs.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_docs import *  # noqa: F403
