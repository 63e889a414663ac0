"""HTML, PDF, ConnectWise and JSON exports: escaping, images, network safety, PDF content.

The PDF is turned back into text with poppler's `pdftotext` (installed by scripts/test.sh;
`apt-get install -y poppler-utils` on a workstation) and its images counted with `pdfimages`.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
from typing import ClassVar

import pytest

from api.exports import formats
from api.exports.formats import render_connectwise, render_html, render_json, render_pdf, sniff_image

from .helpers import bundle, model, png

HOSTILE = "markdown_special_characters_in_progress"
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# --- HTML -----------------------------------------------------------------------------------


def test_html_escapes_everything_users_typed():
    html = render_html(model(bundle(HOSTILE))).body
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Müller &amp; Söhne &lt;IT&gt; | *Büro*" in html
    assert "<b>html</b>" not in html and "&lt;b&gt;html&lt;/b&gt;" in html


def test_html_embeds_images_by_content_and_lists_the_rest():
    fx = bundle("resolved_every_step_kind")
    image = png(40, 30)
    served = {"att-7031": image, "att-drv": b"driver list, not an image"}
    html = render_html(model(fx), served.get).body
    assert html.count("<img ") == 1
    assert "data:image/png;base64," in html
    assert "Attachment: drivers.txt (15.0 KB)" in html


def test_html_never_embeds_a_file_that_is_not_an_image():
    fx = bundle("resolved_every_step_kind")
    html = render_html(model(fx), lambda _id: b"<svg onload=alert(1)>").body
    assert "<img " not in html and "onload" not in html


def test_html_leaves_out_what_the_options_leave_out():
    fx = bundle("escalated_tried_and_custom_steps")
    full = render_html(model(fx)).body
    bare = render_html(model(fx, notes=False, timestamps=False, undone=False, attachments=False)).body
    assert "Tried, then revisited" in full and "Tried, then revisited" not in bare
    assert "Ping from the firewall itself" in full and "Ping from the firewall itself" not in bare
    assert "[23:55]" in full and "[23:55]" not in bare
    assert "tunnel.log" in full and "tunnel.log" not in bare


def test_sniff_image_goes_by_content():
    assert sniff_image(png(2, 2)) == "image/png"
    assert sniff_image(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image(b"GIF89a...") == "image/gif"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"<svg/>") is None and sniff_image(None) is None


# --- ConnectWise and JSON -------------------------------------------------------------------


def test_connectwise_note_and_time_entry():
    out = render_connectwise(model(bundle("resolved_every_step_kind"))).body
    note = out["note"]
    assert note["internalAnalysisFlag"] is True and note["detailDescriptionFlag"] is False
    text = note["text"]
    assert text.startswith(
        "Branchline: Print spooler keeps stopping (v2)\nOutcome: Resolved: driver replaced\n"
    )
    assert "Work performed:\n1. [14:02] Confirmed printing fails for every user." in text
    assert "<" not in text and "**" not in text and "{{" not in text
    entry = out["time_entry"]
    assert entry["chargeToType"] == "ServiceTicket" and entry["chargeToId"] == 58213
    assert entry["timeStart"] == "2026-11-26T14:00:00Z" and entry["timeEnd"] == "2026-11-26T15:05:00Z"
    assert entry["actualHours"] == 1.08  # 65 minutes
    assert entry["notes"] == "Replaced the faulty driver on PRN-01; the spooler has stayed up for 30 minutes."
    assert entry["addToResolutionFlag"] is True


def test_connectwise_without_a_numeric_ticket_or_a_summary():
    out = render_connectwise(model(bundle("abandoned_with_options_off"))).body
    assert out["time_entry"]["chargeToId"] is None  # "T-77" is not a ConnectWise ticket number
    assert out["time_entry"]["notes"] == "Abandoned"
    assert out["time_entry"]["actualHours"] == 0.13  # 8 minutes
    assert "Reason: Customer is replacing the printer. No further work." in out["note"]["text"]


def test_json_carries_the_model_and_the_state():
    fx = bundle("escalated_tried_and_custom_steps")
    from api.sessions.fold import fold_session

    state = fold_session(fx["tree"], fx["events"], fx["header"], fx["client"], None)
    doc = json.loads(render_json(model(fx), state))
    assert doc["schema_version"] == 1
    assert doc["export"]["outcome"]["handover"].startswith("Firewall team:")
    assert doc["session"]["outcome"] == "escalated"


# --- PDF ------------------------------------------------------------------------------------


@needs_poppler
def test_pdf_reads_like_the_notes(tmp_path):
    fx = bundle("sample")
    pdf = render_pdf(model(fx), {"att-01JDR5NSLOOKUP": png()}.get).body
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert "Demo MSP" in text  # the tenant's name in the page header
    assert "Page 1 of" in text  # page numbers
    assert "T20261126.0042: CTX-W11-07 unregistered" in text
    assert "Removed stale DNS records and re-registered CTX-W11-07.contoso.local" in text
    assert "Tried, then revisited" in text and "Custom step (done)" in text
    assert "Get-BrokerMachine -DNSName 'CTX-W11-07.contoso.local' |" in text  # commands, unwrapped
    assert "LastDeregistrationReason: AgentNotContactable" in text
    assert "{{" not in text
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "out.pdf")], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(images) == 1


@needs_poppler
def test_pdf_shows_hostile_text_as_text(tmp_path):
    text = pdf_text(render_pdf(model(bundle(HOSTILE))).body, tmp_path)
    assert "<script>alert(1)</script> checked `whoami /groups`" in text
    assert "<img src=x onerror=alert(1)>" in text


@needs_poppler
def test_pdf_scales_images_to_the_page():
    """A wide screenshot fits the text column (A4 less margins: about 178 mm)."""
    from weasyprint import HTML  # the layout itself: where the image box ended up

    fx = bundle("sample")
    image = {"att-01JDR5NSLOOKUP": png(6000, 800)}
    html = formats._render(
        "pdf", None, {"m": model(fx), "images": {k: "attachment:" + k for k in image}}
    ).body
    doc = HTML(string=html, url_fetcher=formats.AttachmentOnlyFetcher(image.get)).render()
    widths = []
    for page in doc.pages:
        content = page._page_box.width
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            if type(box).__name__.endswith("ReplacedBox"):
                widths.append((box.width, content))
            stack.extend(getattr(box, "children", []))
    assert widths and all(w <= c + 0.5 for w, c in widths)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(png(4, 4))

    def log_message(self, *args):
        pass


def test_pdf_fetches_nothing_but_our_attachments(tmp_path):
    """A tenant template pointing at the network or the disk gets nothing: the fetcher serves
    `attachment:` URLs only, so the local server below must see no request at all."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        secret = tmp_path / "secret.png"
        secret.write_bytes(png(4, 4))
        source = (
            f'<link rel="stylesheet" href="{url}/style.css"><style>@import url("{url}/import.css");'
            f'body {{ background: url("{url}/bg.png"); }}</style>'
            f'<img src="{url}/pixel.png"><img src="file://{secret}"><img src="data:image/png;base64,AAAA">'
            '{% for id, src in images.items() %}<img src="{{ src }}">{% endfor %}{{ m.title }}'
        )
        fx = bundle("sample")
        served = []

        def fetch(attachment_id):
            served.append(attachment_id)
            return png(10, 10)

        fetcher = formats.AttachmentOnlyFetcher(fetch)
        from weasyprint import HTML

        html = formats._render(
            "pdf", source, {"m": model(fx), "images": {"att-01JDR5NSLOOKUP": "attachment:att-01JDR5NSLOOKUP"}}
        ).body
        pdf = HTML(string=html, url_fetcher=fetcher).write_pdf()
        assert pdf.startswith(b"%PDF")
        assert _Recorder.hits == []
        assert served == ["att-01JDR5NSLOOKUP"]
        assert any(u.startswith("http://127.0.0.1") for u in fetcher.requested)  # asked, and refused
        # And through the public function, with the same template:
        assert render_pdf(model(fx), fetch, source).body.startswith(b"%PDF")
        assert _Recorder.hits == []
    finally:
        server.shutdown()


# --- warnings -------------------------------------------------------------------------------

WARNED = "Every job queued on PRN-01 is *deleted*: tell users to print again."


def test_a_steps_warning_stands_right_after_its_sentence_in_html_and_connectwise():
    m = model(bundle("resolved_every_step_kind"))
    html = render_html(m).body
    sentence = html.index("Cleared the spool folder on PRN-01 and restarted the spooler.")
    warning = html.index(f'<div class="warning"><strong>Warning shown:</strong> {WARNED}</div>')
    assert sentence < warning < html.index("Commands run:", sentence)
    note = render_connectwise(m).body["note"]["text"]
    assert (
        "4. [14:12] Cleared the spool folder on PRN-01 and restarted the spooler.\n"
        f"   Warning shown: {WARNED}\n   Commands run:"
    ) in note


@needs_poppler
def test_a_steps_warning_is_in_the_pdf_next_to_its_step(tmp_path):
    text = pdf_text(render_pdf(model(bundle("resolved_every_step_kind"))).body, tmp_path)
    flat = " ".join(text.split())
    step = flat.index("Cleared the spool folder on PRN-01 and restarted the spooler.")
    assert flat.index(f"Warning shown: {WARNED}") > step
    assert flat.index(f"Warning shown: {WARNED}") < flat.index("Commands run:", step)
