"""tests/trees_api/test_publish_reviews.py, unchanged, on the couchdb backend: reviews are
sidecars in the tenant's `trees` database and the tenant setting lives with the tenant, so
both stores must answer alike (the sync-edit case included)."""

from tests.trees_api.test_publish_reviews import *  # noqa: F403
