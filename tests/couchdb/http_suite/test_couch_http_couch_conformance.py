"""tests/sync/test_http_couch_conformance.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_couch_conformance import *  # noqa: F403
