"""tests/sync/test_pouchdb_interrupted.py, unchanged, through Branchline on the CouchDB backend.

Branchline is killed mid-push; CouchDB (pouchdb-server) keeps running, as it would.
"""

from tests.sync.test_pouchdb_interrupted import *  # noqa: F403
