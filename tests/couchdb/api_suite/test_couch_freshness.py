"""tests/freshness/test_freshness_api.py, unchanged, on the couchdb backend: the job runs in a
second process beside the running server, as on a cluster."""

from tests.freshness.test_freshness_api import *  # noqa: F403
