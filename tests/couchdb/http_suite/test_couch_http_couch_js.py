"""tests/sync/test_couch_js_*.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_couch_js_filters import *  # noqa: F403
from tests.sync.test_couch_js_sandbox import *  # noqa: F403
from tests.sync.test_couch_js_validate import *  # noqa: F403
from tests.sync.test_couch_js_views import *  # noqa: F403
