"""tests/sync/test_couch_js_access.py (per-document policy), unchanged, on the CouchDB backend."""

from tests.sync.test_couch_js_access import *  # noqa: F403
