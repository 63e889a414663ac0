"""The export routes on a real server: a session run through a starter tree, every format,
options and tenant defaults, tenant templates, and who may export what."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import httpx
import pytest

from tests.conftest import Tenant

from .helpers import ROOT, bundle

SEED = json.loads((ROOT / "seeds" / "trees" / "citrix-vda-registration.json").read_text(encoding="utf-8"))
API_FILLS = ("_id", "session_id", "ts", "device_id", "user_id")


@pytest.fixture(scope="module")
def world(server):
    """One tenant with the seed tree published and the README's sample session run through
    the API, event by event."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        owner = Tenant(http, name="Northwind IT")
        r = http.post("/api/v1/trees/import", headers=owner.headers, json=SEED)
        assert r.status_code == 201, r.text
        r = http.post(f"/api/v1/trees/{SEED['_id']}/publish", headers=owner.headers, json={})
        assert r.status_code == 201, r.text
        engineer = owner.add_user("engineer")
        r = http.post(
            "/api/v1/sessions",
            headers=engineer.headers,
            json={"tree_id": SEED["_id"], "ticket": "T20261126.0042", "title": "CTX-W11-07 unregistered"},
        )
        assert r.status_code == 201, r.text
        sid = r.json()["session_id"]
        for ev in bundle("sample")["events"]:
            body = {k: v for k, v in ev.items() if k not in API_FILLS}
            if body["type"] == "attachment_added":
                # The file goes first (the server refuses an event for a file it does not
                # have); the event then carries the stored file's real size and checksum.
                up = http.post(
                    f"/api/v1/sessions/{sid}/attachments",
                    headers=engineer.headers,
                    content=_png(),
                    params={
                        "name": body["name"],
                        "node_id": body["node_id"],
                        "attachment_id": body["attachment_id"],
                    },
                )
                assert up.status_code == 201, up.text
                body.update(size=up.json()["event"]["size"], sha256=up.json()["event"]["sha256"])
            r = http.post(f"/api/v1/sessions/{sid}/events", headers=engineer.headers, json=body)
            assert r.status_code == 201, (body, r.text)
        yield http, owner, engineer, sid


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 32), (30, 90, 160)).save(buf, format="PNG")
    return buf.getvalue()


def get_export(http, who, sid, **params):
    return http.get(f"/api/v1/sessions/{sid}/export", headers=who.headers, params=params)


FILENAME = re.compile(
    r'attachment; filename="T20261126\.0042-citrix-vda-registration-\d{4}-\d\d-\d\d\.(\S+)"'
)


@pytest.mark.parametrize(
    "fmt, media, ext",
    [
        ("markdown", "text/markdown; charset=utf-8", "md"),
        ("text", "text/plain; charset=utf-8", "txt"),
        ("html", "text/html; charset=utf-8", "html"),
        ("pdf", "application/pdf", "pdf"),
        ("json", "application/json", "json"),
        ("connectwise", "application/json", "connectwise.json"),
    ],
)
def test_every_format_answers_its_type_and_a_download_name(world, fmt, media, ext):
    http, _owner, engineer, sid = world
    r = get_export(http, engineer, sid, format=fmt)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media
    match = FILENAME.fullmatch(r.headers["content-disposition"])
    assert match and match.group(1) == ext


def test_markdown_reads_like_ticket_notes(world):
    http, _owner, engineer, sid = world
    md = get_export(http, engineer, sid).text  # markdown is the default
    assert md.startswith(
        "# T20261126.0042: CTX-W11-07 unregistered\n\n## Summary\n\n- **Outcome:** Resolved\n"
    )
    assert "- **Root cause:** Stale or duplicate A/PTR records" in md
    assert "- **Engineer:** Engineer\n" in md  # the display name of the user who ran it
    assert "- **Tree:** Citrix VDA Not Registering (version 1)\n" in md
    assert "*Tried, then revisited:* Confirmed forward and reverse DNS are correct" in md
    assert "*Custom step (done):* Compared the VDA's A record with its current DHCP lease" in md
    assert "Get-BrokerMachine -DNSName 'CTX-W11-07.contoso.local' |" in md
    assert "**Resolved:** stale DNS records" in md
    assert "{{" not in md and "capture_state" not in md


def test_the_api_export_equals_the_readme_sample_but_for_times_and_names(world):
    """Run through the API, the same events give the README's sample, except what the server
    decides itself: when the session started, who ran it, and the version number."""
    http, _owner, engineer, sid = world
    md = get_export(http, engineer, sid).text
    section = (ROOT / "api" / "exports" / "README_SAMPLE.md").read_text(encoding="utf-8")
    sample = section[section.index("````markdown\n") + 13 : section.rindex("````")]

    def strip(text):
        text = re.sub(r"\[\d\d:\d\d\] |\[\d{4}-\d\d-\d\d \d\d:\d\d\] ", "", text)
        text = re.sub(r"\[added (\d{4}-\d\d-\d\d )?\d\d:\d\d", "[added", text)  # the server's clock
        # The uploaded stand-in image has its own size and checksum.
        text = re.sub(r"\(\d+(\.\d)? (B|KB|MB)\)(?=: Forward lookup)", "(SIZE)", text)
        text = re.sub(r"SHA-256 [0-9a-f]{64}", "SHA-256 HASH", text)
        return [
            line
            for line in text.splitlines()
            if not line.startswith(
                (
                    "- **Started:**",
                    "- **Ended:**",
                    "- **Duration:**",
                    "- **Engineer",
                    "- **Tree:**",
                    "- **Client:**",
                )
            )
        ]

    assert strip(md) == strip(sample)


def test_options_and_tenant_defaults(world):
    http, owner, engineer, sid = world
    assert http.get("/api/v1/export-settings", headers=engineer.headers).json() == {
        "notes": True,
        "timestamps": True,
        "undone": True,
        "attachments": True,
    }
    bare = get_export(
        http,
        engineer,
        sid,
        format="text",
        notes="false",
        timestamps="false",
        undone="false",
        attachments="false",
    ).text
    assert "Note:" not in bare and "[09:" not in bare and "Tried, then revisited" not in bare
    assert "Attachment:" not in bare and "Custom step (done)" in bare
    # engineers read the defaults; only owners and admins change them
    r = http.put("/api/v1/export-settings", headers=engineer.headers, json={"undone": False})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = http.put(
        "/api/v1/export-settings", headers=owner.headers, json={"undone": False, "timestamps": False}
    )
    assert r.status_code == 200 and r.json() == {
        "notes": True,
        "timestamps": False,
        "undone": False,
        "attachments": True,
    }
    try:
        text = get_export(http, engineer, sid, format="text").text
        assert "Tried, then revisited" not in text and "Note:" in text
        assert "Tried, then revisited" in get_export(http, engineer, sid, format="text", undone="true").text
    finally:
        http.put("/api/v1/export-settings", headers=owner.headers, json={"undone": True, "timestamps": True})
    r = http.put("/api/v1/export-settings", headers=owner.headers, json={"colour": True})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


def test_preview_is_inline_html_that_runs_nothing(world):
    http, _owner, engineer, sid = world
    r = http.get(f"/api/v1/sessions/{sid}/export/preview", headers=engineer.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert "content-disposition" not in r.headers
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "<h2>Steps</h2>" in r.text and "<script" not in r.text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_pdf_carries_the_tenant_name_and_page_numbers(world, tmp_path):
    http, _owner, engineer, sid = world
    path = tmp_path / "export.pdf"
    path.write_bytes(get_export(http, engineer, sid, format="pdf").content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Northwind IT" in text and "Page 1 of" in text
    assert "Removed the stale DNS records, re-registered CTX-W11-07.contoso.local" in text


def test_connectwise_answers_a_note_and_a_time_entry(world):
    http, _owner, engineer, sid = world
    out = get_export(http, engineer, sid, format="connectwise").json()
    assert out["ticket"] == "T20261126.0042"
    assert out["note"]["internalAnalysisFlag"] is True
    assert out["note"]["text"].startswith("Branchline: Citrix VDA Not Registering (v1)\nOutcome: Resolved")
    assert out["time_entry"]["notes"].startswith("Removed stale DNS records and re-registered")
    assert isinstance(out["time_entry"]["actualHours"], float)


def test_tenant_templates_are_checked_when_saved(world):
    http, owner, engineer, sid = world
    url = "/api/v1/export-templates/html"
    assert http.get(url, headers=owner.headers).json()["custom"] is False
    r = http.put(
        url, headers=owner.headers, json={"source": "<h1>{{ m.title }}</h1>\n{% if m.steps %}\n<p>x</p>\n"}
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert r.json()["details"]["line"] in (3, 4) and "line" in r.json()["reason"]
    r = http.put(url, headers=owner.headers, json={"source": "{{ m.__class__.__mro__[1].__subclasses__() }}"})
    assert r.status_code == 400 and r.json()["details"]["line"] == 1
    r = http.put(url, headers=engineer.headers, json={"source": "<h1>{{ m.title }}</h1>"})
    assert r.status_code == 403
    r = http.put(
        url,
        headers=owner.headers,
        json={
            "source": "<h1>Northwind: {{ m.title }}</h1>"
            "{% for s in m.steps %}<p>{{ s.sentence }}</p>{% endfor %}"
        },
    )
    assert r.status_code == 200 and r.json()["custom"] is True
    try:
        html = get_export(http, engineer, sid, format="html").text
        assert html.startswith("<h1>Northwind: T20261126.0042: CTX-W11-07 unregistered</h1>")
        assert "<p>Compared the VDA&#39;s A record with its current DHCP lease</p>" in html  # escaped
    finally:
        assert http.delete(url, headers=owner.headers).status_code == 204
    assert http.delete(url, headers=owner.headers).status_code == 404
    r = http.put("/api/v1/export-templates/markdown", headers=owner.headers, json={"source": "x"})
    assert r.status_code == 400


def test_only_those_who_may_read_the_session_export_it(world):
    http, owner, _engineer, sid = world
    other = owner.add_user("engineer")
    r = get_export(http, other, sid)
    assert r.status_code in (403, 404) and set(r.json()) >= {"error", "reason"}
    assert get_export(http, owner, sid).status_code == 200  # owners see every session


def test_bad_requests_answer_the_one_error_shape(world):
    http, _owner, engineer, sid = world
    r = get_export(http, engineer, sid, format="docx")
    assert r.status_code == 400 and r.json()["error"] == "bad_request" and "format" in r.json()["reason"]
    r = get_export(http, engineer, sid, notes="perhaps")
    assert r.status_code == 400
    r = get_export(http, engineer, "01JDR5K8Q6V9R1W0K2M4N5P7ZZ")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
