"""Bodies for chat targets: Slack and Microsoft Teams incoming webhooks show a readable line.

A `standard` subscription receives the Standard Webhooks JSON `{type, timestamp, data}`. A
`slack` one posts Slack's `{text}`; a `teams` one posts a message with one Adaptive Card,
which both Teams workflows ("Post to a channel when a webhook request is received") and
the older Office 365 connectors display. The signature headers go with every preset (chat
services ignore them).
"""

from __future__ import annotations

from typing import Any

PRESETS = ("standard", "slack", "teams")

_OUTCOMES = {"resolved": "resolved", "escalated": "escalated", "unresolved": "left unresolved"}


def _session_name(data: dict[str, Any]) -> str:
    title = data.get("title") or data.get("session_id") or "a session"
    ticket = data.get("ticket")
    return f"{title} (ticket {ticket})" if ticket else str(title)


def summary(payload: dict[str, Any]) -> str:
    """One sentence a person reads in a channel."""
    kind = payload.get("type")
    data = payload.get("data") or {}
    if kind == "session.started":
        return f"Session started: {_session_name(data)}."
    if kind == "session.completed":
        outcome = _OUTCOMES.get(str(data.get("outcome")), "completed")
        text = f"Session {outcome}: {_session_name(data)}."
        return f"{text} {data['summary']}" if data.get("summary") else text
    if kind == "session.abandoned":
        text = f"Session abandoned: {_session_name(data)}."
        return f"{text} Reason: {data['reason']}" if data.get("reason") else text
    if kind == "tree.published":
        text = f"Tree published: {data.get('title') or data.get('tree_id')}, version {data.get('version')}."
        return f"{text} {data['change_note']}" if data.get("change_note") else text
    if kind == "tree.needs_review":
        text = f"Tree needs review: {data.get('title') or data.get('tree_id')}."
        return f"{text} {data['reason']}" if data.get("reason") else text
    if kind == "attachment.added":
        return f"Attachment added to {_session_name(data)}: {data.get('name') or data.get('attachment_id')}."
    if kind == "webhook.test":
        return "Branchline test message: this webhook is set up."
    return f"Branchline event {kind}."


def body_for(preset: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What is posted for `payload` to a target of `preset`."""
    if preset == "slack":
        return {"text": summary(payload)}
    if preset == "teams":
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": "Branchline", "weight": "Bolder", "size": "Medium"},
                {"type": "TextBlock", "text": summary(payload), "wrap": True},
                {
                    "type": "TextBlock",
                    "text": str(payload.get("timestamp", "")),
                    "isSubtle": True,
                    "spacing": "None",
                },
            ],
        }
        return {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
    return payload
