"""The pure parts of webhooks: signatures, sealing, the retry rule, events from documents."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from standardwebhooks.webhooks import Webhook

from api.core.sealing import SealBroken
from api.settings import Settings, SettingsError
from api.webhooks import delivery, events, presets, signing

DEFAULT = Settings(
    webhook_retry_schedule=Settings.model_fields["webhook_retry_schedule"].default
).webhook_retry_delays()


def test_our_signature_is_the_reference_librarys():
    secret = signing.new_secret()
    body = b'{"type":"tree.published","timestamp":"2026-12-03T10:00:00.000Z","data":{}}'
    ours = signing.sign(signing.signing_key(secret), "msg_1", 1796300000, body)
    theirs = Webhook(secret).sign("msg_1", datetime.fromtimestamp(1796300000, tz=UTC), body.decode())
    assert ours == theirs


def test_a_sealed_secret_opens_only_for_its_own_tenant_and_subscription():
    sealed = signing.seal("server-secret" * 4, "t1", "w1", "whsec_abc")
    assert signing.unseal("server-secret" * 4, "t1", "w1", sealed) == "whsec_abc"
    with pytest.raises(SealBroken):
        signing.unseal("server-secret" * 4, "t1", "w2", sealed)
    with pytest.raises(SealBroken):
        signing.unseal("another-secret" * 4, "t1", "w1", sealed)


def test_secrets_sealed_before_the_shared_sealing_helper_still_open():
    # As stored until now: AES-GCM under HMAC-SHA256(server secret, label), nonce first.
    key = hmac.new(b"server-secret" * 4, b"branchline webhook secrets v1", hashlib.sha256).digest()
    nonce = b"\x01" * 12
    stored = base64.b64encode(nonce + AESGCM(key).encrypt(nonce, b"whsec_old", b"t1:w1")).decode()
    assert signing.unseal("server-secret" * 4, "t1", "w1", stored) == "whsec_old"


def _attempt(ok: bool) -> delivery.Attempt:
    return delivery.Attempt(
        "2026-12-03T10:00:00.000Z", ok, 200 if ok else 503, "", None if ok else "503", 5, {}
    )


def test_the_default_schedule_retries_for_about_a_day_then_gives_up():
    assert 20 * 3600 < sum(DEFAULT) < 30 * 3600
    msg = {"status": "sending", "attempt_count": 0, "attempts": []}
    now = 0
    waits = []
    while True:
        msg = delivery.after_attempt(msg, _attempt(False), DEFAULT, now)
        if msg["status"] == "failed":
            break
        waits.append(msg["next_attempt_ms"] - now)
        now = msg["next_attempt_ms"]
    assert waits == [int(d * 1000) for d in DEFAULT]
    assert msg["attempt_count"] == len(DEFAULT) + 1 and msg["gave_up"] == "retries_spent"
    assert len(msg["attempts"]) == len(DEFAULT) + 1 <= delivery.ATTEMPTS_KEPT


def test_a_manual_retry_is_one_attempt_and_success_delivers():
    failed = delivery.after_attempt({"attempt_count": 3, "manual": True}, _attempt(False), DEFAULT, 0)
    assert failed["status"] == "failed" and failed["gave_up"] == "single_attempt" and "manual" not in failed
    done = delivery.after_attempt({"attempt_count": 3, "manual": True}, _attempt(True), DEFAULT, 0)
    assert done["status"] == "delivered" and done["claim"] is None and "manual" not in done


@pytest.mark.parametrize("schedule", ["", "5,x", "0,5", "-1", ",".join(["1"] * 21)])
def test_a_bad_retry_schedule_stops_start_up_with_an_example(schedule):
    with pytest.raises(SettingsError, match="5,300,1800"):
        Settings(webhook_retry_schedule=schedule)


SID = "01JD3Z8Q6V9R1W0K2M4N5P7S8T"


def test_documents_map_to_events_with_keys_every_instance_computes_alike():
    header = {
        "_id": f"session:{SID}",
        "_rev": "3-a",
        "type": "session",
        "title": "T",
        "created_at": 1795651200000,
    }
    started = events.from_session_doc(header)
    assert started.type == "session.started" and started.key == f"{SID}-started"
    assert started.data["title"] == "T" and started.timestamp == "2026-11-26T00:00:00.000Z"
    ev = {"_id": f"session:{SID}:ev:01JD3Z8Q6V9R1W0K2M4N5P7S9V", "type": "abandoned", "ts": 1, "reason": "r"}
    assert events.from_session_doc(ev).key == "01JD3Z8Q6V9R1W0K2M4N5P7S9V-abandoned"
    assert events.from_session_doc(ev).data["reason"] == "r"
    assert events.from_session_doc({**ev, "type": "note"}) is None
    assert events.from_session_doc({**header, "_deleted": True}) is None
    version = {
        "_id": "treever:tree:x:2",
        "type": "tree_version",
        "version": 2,
        "published_at": "2026-12-03T10:00:00Z",
        "tree": {"title": "X"},
    }
    one, again = events.from_tree_doc(version), events.from_tree_doc(dict(version))
    assert one.key == again.key and one.key.endswith("-published")
    assert one.key != events.from_tree_doc({**version, "_id": "treever:tree:x:3"}).key
    assert one.key[:10] == events.stable_ulid(1796292000000, "x")[:10]  # sorts by publication time


def test_chat_presets_say_what_happened_in_one_line():
    payload = {"type": "session.completed", "timestamp": "t", "data": {"title": "VPN", "outcome": "resolved"}}
    assert presets.body_for("slack", payload) == {"text": "Session resolved: VPN."}
    assert presets.body_for("standard", payload) is payload


def test_the_api_schema_lists_exactly_the_events_the_outbox_makes():
    from typing import get_args

    from api.webhooks.schemas import EventName, PresetName

    assert get_args(EventName) == events.EVENT_TYPES
    assert get_args(PresetName) == presets.PRESETS
