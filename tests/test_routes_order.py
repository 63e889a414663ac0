"""No route is unreachable because an earlier one matches its paths.

FastAPI tries routes in the order the routers are included (api/features.py puts the
engineers' hot routes first): a literal path such as `/api/v1/trees/search` must not sit
behind an earlier `/api/v1/trees/{tree_id}` of the same method, or its callers get the other
route's answer (a 404 "no tree search") instead of theirs.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import Match

from api.app import create_app
from api.settings import Settings

SAMPLES = {
    "str": "sample1",
    "int": "7",
    "path": "a/b",
    "float": "1.5",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _sample_path(route: APIRoute) -> str:
    path = route.path_format
    for name, convertor in route.param_convertors.items():
        kind = type(convertor).__name__.removesuffix("Convertor").lower()
        path = path.replace("{" + name + "}", SAMPLES.get(kind, "sample1"))
    return path


def _flat_routes(app) -> list[APIRoute]:
    """The app's routes in the order FastAPI tries them: an included router's routes stand
    where the router was included (FastAPI 0.16x keeps it as one `_IncludedRouter` entry)."""

    def walk(routes) -> list[APIRoute]:
        flat: list[APIRoute] = []
        for r in routes:
            included = getattr(r, "original_router", None)
            if included is not None:
                assert r.include_context.prefix == "", "a prefixed router: extend this walk"
                flat.extend(walk(included.routes))
            elif isinstance(r, APIRoute):
                flat.append(r)
        return flat

    return walk(app.router.routes)


def test_every_route_is_the_first_to_match_its_own_paths(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    routes = _flat_routes(app)
    assert len(routes) > 60, "the routes were not flattened: the check would prove nothing"
    shadowed = []
    for route in routes:
        path = _sample_path(route)
        for method in sorted(route.methods):
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            first = next(r for r in routes if r.matches(scope)[0] is Match.FULL)
            if first is not route:
                shadowed.append(f"{method} {route.path} is answered by {first.path} (earlier)")
    assert not shadowed, shadowed


def test_the_check_finds_a_shadowed_route(tmp_path):
    # The check above is only worth having if it fails on a real shadowing.
    from fastapi import APIRouter, FastAPI

    app = FastAPI()
    router = APIRouter()
    router.add_api_route("/api/v1/things/{thing_id}", lambda thing_id: thing_id, methods=["GET"])
    router.add_api_route("/api/v1/things/search", lambda: "search", methods=["GET"])
    app.include_router(router)
    routes = _flat_routes(app)
    path = _sample_path(routes[1])
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    assert next(r for r in routes if r.matches(scope)[0] is Match.FULL) is routes[0]
