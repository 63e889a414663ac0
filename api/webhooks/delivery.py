"""One delivery attempt, and what it makes of a message (the retry schedule).

`attempt` resolves and checks the target again (`ssrf.py`), signs the body for this attempt,
posts it to the checked address and reads at most an excerpt of the answer; it never raises
for the receiver's faults, it reports them. `after_attempt` is the pure rule that turns an
attempt into the message's next state: delivered on 2xx; otherwise the next retry after the
schedule's delay, or `failed` when the schedule is spent (or for a manual retry or a test,
which are single attempts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from ..audit.service import now_iso
from . import presets, signing
from .ssrf import Resolver, TargetRefused, resolve_target

EXCERPT_BYTES = 1024
ATTEMPTS_KEPT = 10
USER_AGENT = "Branchline-Webhooks/1"


@dataclass(frozen=True)
class Attempt:
    at: str
    ok: bool
    status_code: int | None
    response_excerpt: str
    error: str | None
    duration_ms: int
    request: dict[str, Any]

    def record(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "ok": self.ok,
            "status_code": self.status_code,
            "response_excerpt": self.response_excerpt,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "request": self.request,
        }


def request_for(msg: dict[str, Any], secret: str, preset: str, now_s: int) -> tuple[dict[str, str], bytes]:
    """Headers and body of one attempt: the body is the preset's, the signature covers it."""
    body = orjson.dumps(presets.body_for(preset, msg["payload"]))
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg["msg_id"],
        "webhook-timestamp": str(now_s),
        "webhook-signature": signing.sign(signing.signing_key(secret), msg["msg_id"], now_s, body),
    }
    return headers, body


def new_client(timeout: float, connections: int) -> httpx.Client:
    # trust_env off: a proxy from the environment would connect by name, not to the checked address.
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def attempt(
    client: httpx.Client,
    sub: dict[str, Any],
    secret: str,
    msg: dict[str, Any],
    *,
    allow_private: bool,
    resolver: Resolver,
) -> Attempt:
    started = time.monotonic()
    at = now_iso()
    headers, body = request_for(msg, secret, sub.get("preset") or "standard", int(time.time()))
    shown = {k: v for k, v in headers.items() if k != "user-agent"}
    request = {"url": sub["url"], "headers": shown, "body": body.decode()[: EXCERPT_BYTES * 4]}

    def done(ok: bool, status: int | None, excerpt: str, error: str | None) -> Attempt:
        ms = int((time.monotonic() - started) * 1000)
        return Attempt(at, ok, status, excerpt, error, ms, request)

    try:
        target = resolve_target(sub["url"], allow_private=allow_private, resolver=resolver)
    except TargetRefused as exc:
        return done(False, None, "", f"refused: {exc}")
    send_headers = {**headers, "host": target.host_header}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with client.stream(
            "POST", target.pinned_url, content=body, headers=send_headers, extensions=extensions
        ) as response:
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            text = excerpt[:EXCERPT_BYTES].decode("utf-8", "replace")
            code = response.status_code
    except httpx.TimeoutException:
        return done(False, None, "", "timed out: the receiver did not answer in time")
    except httpx.HTTPError as exc:
        return done(False, None, "", f"could not connect: {type(exc).__name__}: {exc}"[:500])
    if 200 <= code < 300:
        return done(True, code, text, None)
    if 300 <= code < 400:
        location = response.headers.get("location", "")
        return done(
            False,
            code,
            text,
            f"the receiver redirected to {location[:300]!r}; redirects are not followed, "
            "point the webhook at the final URL",
        )
    return done(False, code, text, f"the receiver answered {code}")


def after_attempt(
    msg: dict[str, Any], result: Attempt, delays: tuple[float, ...], now_ms: int, *, permanent: bool = False
) -> dict[str, Any]:
    """The message updated by one attempt (a new dict; `msg` is left alone). `permanent`: the
    failure is one no retry can cure (e-mail's 5xx refusals), so the message fails now
    (`gave_up: permanent`). The e-mail outbox (`api/mail`) keeps its messages by this rule too."""
    out = dict(msg)
    out["attempts"] = [*msg.get("attempts", []), result.record()][-ATTEMPTS_KEPT:]
    out["attempt_count"] = int(msg.get("attempt_count", 0)) + 1
    out["claim"] = None
    out["last_error"] = result.error
    if result.ok:
        out.pop("manual", None)
        out.update(status="delivered", delivered_at=result.at, next_attempt_ms=None)
        return out
    retries_made = out["attempt_count"] - 1
    manual = bool(out.pop("manual", False))
    if manual or permanent or retries_made >= len(delays):
        gave_up = "permanent" if permanent else "single_attempt" if manual else "retries_spent"
        out.update(status="failed", next_attempt_ms=None, failed_at=result.at, gave_up=gave_up)
    else:
        out.update(status="pending", next_attempt_ms=now_ms + int(delays[retries_made] * 1000))
    return out
