"""JavaScript design documents on the sync endpoints: views, filters, validate_doc_update.

- sandbox.py: the QuickJS sandbox (package `quickjs`), with CPU-time and memory limits.
- designs.py: which functions a database's design documents define, and how a write,
  a `_changes` filter or a view calls them.
- views.py, http_views.py: the view index (a side SQLite file per database) and its API.
- collate.py, reduce.py: CouchDB's key order and built-in reduces, as pure functions.
"""
