"""tests/share/test_share_links_api.py, unchanged, on the couchdb backend: the links live in
the system database there too, found by prefix and by token hash."""

from tests.share.test_share_links_api import *  # noqa: F403
