"""What a page pulled over the network, as Chromium's own network stack counted it (DevTools
protocol), for the first-load test and benchmarks/pwa_budgets.py.

`transferred` is what crossed the wire (headers plus the possibly compressed body: DevTools'
"transferred" column, i.e. `encodedDataLength`); `raw` is the decoded body the page received.
Only the page's own requests are seen: the service worker's background precache runs in its
own target, reported by `precache_transfers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import wait_until


@dataclass
class Transfer:
    url: str
    resource_type: str
    status: int = 0
    content_encoding: str = ""
    from_service_worker: bool = False
    transferred: int = 0
    raw: int = 0
    finished: bool = False

    @property
    def name(self) -> str:
        return self.url.split("?")[0].rsplit("/", 1)[-1]


class PageTransfers:
    """Records every response a page receives from the moment it is attached."""

    def __init__(self, page) -> None:
        self.page = page
        self.by_id: dict[str, Transfer] = {}
        self._cdp = page.context.new_cdp_session(page)
        self._cdp.on("Network.responseReceived", self._response)
        self._cdp.on("Network.dataReceived", self._data)
        self._cdp.on("Network.loadingFinished", self._finished)
        self._cdp.on("Network.loadingFailed", self._failed)
        self._cdp.send("Network.enable")

    def _response(self, ev: dict) -> None:
        res = ev["response"]
        headers = {k.lower(): v for k, v in res.get("headers", {}).items()}
        self.by_id[ev["requestId"]] = Transfer(
            url=res["url"],
            resource_type=ev.get("type", ""),
            status=res.get("status", 0),
            content_encoding=headers.get("content-encoding", ""),
            from_service_worker=bool(res.get("fromServiceWorker")),
        )

    def _data(self, ev: dict) -> None:
        t = self.by_id.get(ev["requestId"])
        if t is not None:
            t.raw += ev.get("dataLength", 0)

    def _finished(self, ev: dict) -> None:
        t = self.by_id.get(ev["requestId"])
        if t is not None:
            t.transferred = int(ev.get("encodedDataLength", 0))
            t.finished = True

    def _failed(self, ev: dict) -> None:
        t = self.by_id.get(ev["requestId"])
        if t is not None:
            t.finished = True

    def settle(self, timeout: float = 15) -> None:
        """Wait until every script seen so far has finished loading (live sync feeds never
        finish, so only scripts count; events arrive while Playwright is called, hence the
        evaluate)."""
        wait_until(
            lambda: (
                self.page.evaluate("1")
                and all(t.finished for t in self.by_id.values() if t.resource_type == "Script")
            ),
            timeout=timeout,
            message="every script to finish loading",
        )

    def scripts(self) -> list[Transfer]:
        """The JavaScript files this page fetched from the server (not from its service worker)."""
        return sorted(
            (
                t
                for t in self.by_id.values()
                if t.resource_type == "Script" and not t.from_service_worker and t.status == 200
            ),
            key=lambda t: t.name,
        )


def precache_transfers(context) -> list:
    """Collects the service worker's own requests (its precache) made in `context` from now on:
    a list that fills as responses finish, of (file name, transferred body bytes)."""
    seen: list = []

    def on_finished(request) -> None:
        if request.service_worker is not None:
            sizes = request.sizes()
            seen.append(
                (request.url.rsplit("/", 1)[-1], sizes["responseBodySize"] + sizes["responseHeadersSize"])
            )

    context.on("requestfinished", on_finished)
    return seen
