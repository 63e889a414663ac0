"""Request examples of the clients routes (they become the OpenAPI text)."""

from __future__ import annotations

from typing import Any

CLIENT_EXAMPLES: dict[str, Any] = {
    "client": {
        "summary": "A client context",
        "value": {
            "name": "Contoso Ltd",
            "values": {"domain": "contoso.local"},
            "notes": "After-hours changes need approval.",
        },
    },
}
