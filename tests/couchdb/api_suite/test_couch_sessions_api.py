"""tests/sessions/test_sessions_api.py, unchanged, on the couchdb backend."""

from tests.sessions.test_sessions_api import *  # noqa: F403

# Opens the server's data folder in-process as an embedded store (what an operator's CLI
# does on the embedded backend); on the couchdb backend the data folder holds no databases.
del test_session_bundle_for_exports  # noqa: F821
