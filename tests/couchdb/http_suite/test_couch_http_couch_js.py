"""tests/sync/test_couch_js_*.py, unchanged, through Branchline on the CouchDB backend."""
from tests.sync.test_couch_js_filters import *
from tests.sync.test_couch_js_sandbox import *
from tests.sync.test_couch_js_validate import *
from tests.sync.test_couch_js_views import *
