"""tests/scripts/test_scripts_api.py, unchanged, on the couchdb backend: the scripts database,
its drafts and published copies, rendering, import/export and the sync rules over CouchDB."""

from tests.scripts.test_scripts_api import *  # noqa: F403
