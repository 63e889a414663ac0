"""tests/sync/test_http_db.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_db import *  # noqa: F403

# pouchdb-server 4.2 (the CouchDB stand-in here) has no `_revs_limit` endpoint; CouchDB 3
# and Cloudant do, and CouchStore passes it through.
del test_revs_limit_get_and_put  # noqa: F821
