"""Exports made on a device, filed in the audit log when the device's record of them arrives.

The PWA builds Markdown and text on the device, offline too, so no request of the server
sees those exports happen. The device writes an `exported` event into the session instead
(`api/sessions/events.py`; the fold leaves it out, so it changes no state and no export),
and the server files it as `session.exported` with `via: device` once the store has taken
it, over sync or through the API. The event's `_id` is the entry's `once` key: an event
pushed again (a replicator that lost its checkpoint, a second instance, a retried request)
is filed once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sync.access import Principal

from . import service


def details_of(event: dict[str, Any]) -> dict[str, Any]:
    """What the entry says of a device export: the format, how it left the device, and when
    and where by the device's own account (its clock may be wrong; the entry's `ts` is the
    server's time of filing)."""
    ts = event.get("ts")
    device_ts = (
        service.now_iso(datetime.fromtimestamp(ts / 1000, UTC))
        if isinstance(ts, int) and not isinstance(ts, bool)
        else None
    )
    return {
        "via": "device",
        "format": event.get("format"),
        "how": event.get("how"),
        "device_ts": device_ts,
        "device_id": event.get("device_id"),
        "event_id": event.get("_id"),
    }


def file(ctx: Any, who: Principal, sid: str, event: dict[str, Any], ip: str | None) -> dict[str, Any] | None:
    """File one stored `exported` event; None when it was filed before."""
    return service.record(
        ctx,
        who,
        "session.exported",
        "session",
        sid,
        ip=ip,
        details=details_of(event),
        once=f"device_export:{event['_id']}",
    )
