"""The floor under every sync request: an ASGI app that answers `{}` at once, served by the
same uvicorn and HTTP parser as Branchline (benchmarks/sync_requests.py measures it beside
the real requests). Whatever a request costs above this is Branchline's own work."""

from __future__ import annotations

from typing import Any

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
}
_BODY = {"type": "http.response.body", "body": b"{}"}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # served with --lifespan off
        return
    while (await receive()).get("more_body"):  # read the body, as a real endpoint does
        pass
    await send(_START)
    await send(_BODY)
