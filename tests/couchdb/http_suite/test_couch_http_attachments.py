"""tests/sync/test_http_attachments.py, unchanged, through Branchline on the CouchDB backend."""

from tests.sync.test_http_attachments import *  # noqa: F403
