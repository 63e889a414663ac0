"""The sync routes come first in the app, and that routes no request differently.

`install_sync` moves them to the front because route matching is a large share of the
work of a small sync request; this holds only while no other route matches a /sync/ path.
"""
from __future__ import annotations

from starlette.routing import Match


def test_only_the_sync_routes_match_sync_paths_and_they_come_first(tmp_path):
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    routes = app.router.routes
    assert hasattr(getattr(routes[0], "original_router", None), "sync_api")
    for path in ("/sync/t1", "/sync/t1/", "/sync/t1/clients", "/sync/t1/clients/_local/x",
                 "/sync/t1/clients/doc/att.txt"):
        for method in ("GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "PATCH", "OPTIONS"):
            scope = {"type": "http", "path": path, "method": method, "root_path": "", "app": app}
            first = [(i, m) for i, r in enumerate(routes)
                     if (m := r.matches(scope)[0]) != Match.NONE]
            # The sync routes answer every method they route (a PARTIAL match for OPTIONS,
            # as before), and they are the first to match, full or partial.
            assert first and first[0][0] == 0, (path, method, first)
            full = [i for i, m in first if m == Match.FULL]
            assert not full or full[0] == 0, (path, method, first)
    # Other paths never reach the sync routes.
    scope = {"type": "http", "path": "/api/v1/me", "method": "GET", "root_path": "", "app": app}
    assert routes[0].matches(scope)[0] == Match.NONE
