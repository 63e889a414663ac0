"""tests/sync/test_pouchdb_replication.py, unchanged, through Branchline on the CouchDB backend.

tests/couchdb/test_couchdb_conformance.py runs the same scenarios on both backends and
compares them; this module holds the CouchDB run to the sync tests' own assertions too.
"""

from tests.sync.test_pouchdb_replication import *  # noqa: F403

# Stemming is the database's job: pouchdb-server 4.2 keeps every revision and has no
# `_revs_limit` endpoint (CouchDB 3 has both). The scenario's other outcomes are checked,
# against the embedded run, in test_couchdb_conformance.py.
del test_stemming_with_a_small_revs_limit  # noqa: F821
