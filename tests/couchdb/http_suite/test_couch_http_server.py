"""tests/sync/test_http_server.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_server import *  # noqa: F403
