"""Webhook targets: loopback, private, link-local and metadata addresses are refused.

The server of this module runs with the default (`BRANCHLINE_WEBHOOK_ALLOW_PRIVATE` unset), so
saving such a URL answers 400. A name is checked again at every delivery attempt and the
request goes to the address that was checked: the DNS-rebinding tests drive one attempt
(`api.webhooks.delivery.attempt`) against a real receiver with a resolver that answers what
a hostile DNS server would (the one stand-in here: this machine cannot serve public DNS).
"""

from __future__ import annotations

import re

import pytest

from api.webhooks import delivery, signing
from api.webhooks.events import Event
from api.webhooks.outbox import message_doc
from api.webhooks.ssrf import TargetRefused, address_problem, resolve_target


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),
        ("64:ff9b::a00:1", "private"),
        ("2002:5db8:d70e::1", None),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.20", "private"),
        ("fd00:ec2::254", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "reserved"),
        ("224.0.0.1", "multicast"),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_kinds(address, kind):
    found = address_problem(address)
    assert (found is None) if kind is None else found.startswith(kind)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://localhost/hook", "localhost resolves to"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.0.0.5/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("ftp://files.example.com/x", "https://"),
        ("https://user:pw@93.184.215.14/x", "user name or password"),
    ],
)
def test_saving_a_webhook_to_a_non_public_target_is_refused(http, tenant, url, words):
    r = http.post("/api/v1/webhooks", headers=tenant.headers, json={"url": url, "events": ["tree.published"]})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_request" and words in r.json()["reason"]
    assert http.get("/api/v1/webhooks", headers=tenant.headers).json()["items"] == []


class Rebinding:
    """A DNS answer that changes: public while the subscription is saved, then another address."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return [self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]]


def _message() -> tuple[dict, str, dict]:
    secret = signing.new_secret()
    event = Event("tree.published", "01JD3Z8Q6V9R1W0K2M4N5P7S8T-published", "2026-12-03T10:00:00.000Z", {})
    return {"id": "w1", "events": ["tree.published"]}, secret, event


def test_a_name_that_rebinds_to_loopback_after_it_was_saved_is_refused_at_delivery(receiver):
    dns = Rebinding("93.184.215.14", "127.0.0.1")
    url = f"http://hooks.example.com:{receiver.port}/hook"
    resolve_target(url, allow_private=False, resolver=dns)  # saving it: a public address
    sub, secret, event = _message()
    sub["url"] = url
    with delivery.new_client(5, 2) as client:
        result = delivery.attempt(
            client, sub, secret, message_doc(sub, event, 0), allow_private=False, resolver=dns
        )
    assert not result.ok and result.status_code is None
    assert result.error.startswith("refused: hooks.example.com resolves to 127.0.0.1, which is a loopback")
    assert receiver.bodies() == []
    assert dns.asked == ["hooks.example.com", "hooks.example.com"]


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    def mixed(host, port):
        return ["93.184.215.14", "10.0.0.7"]

    with pytest.raises(TargetRefused, match=re.escape("10.0.0.7, which is a private address")):
        resolve_target("https://hooks.example.com/x", allow_private=False, resolver=mixed)


def test_the_request_goes_to_the_checked_address_and_keeps_the_name_for_the_receiver(receiver):
    dns = Rebinding("127.0.0.1", "10.9.9.9")  # a second lookup would go elsewhere
    sub, secret, event = _message()
    sub["url"] = f"http://hooks.example.com:{receiver.port}/hook"
    with delivery.new_client(5, 2) as client:
        result = delivery.attempt(
            client, sub, secret, message_doc(sub, event, 0), allow_private=True, resolver=dns
        )
    assert result.ok, result.error
    assert dns.asked == ["hooks.example.com"]  # one lookup per attempt: checked, then used
    assert receiver.bodies()[0].headers["host"] == f"hooks.example.com:{receiver.port}"
