"""A tenant's brand in its HTML and PDF exports (issue #19 point 4): the name and logo in
the header, a footer line, and user text (the brand name included) still escaped."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT, Tenant

from .test_brand_api import png

SEED = json.loads((ROOT / "seeds" / "trees" / "citrix-vda-registration.json").read_text(encoding="utf-8"))
NAME = "Acme <b>IT</b> & Co"


def branded_session(http, *, logo: bool = True) -> tuple[Tenant, str]:
    owner = Tenant(http)
    assert http.post("/api/v1/trees/import", headers=owner.headers, json=SEED).status_code == 201
    r = http.post(f"/api/v1/trees/{SEED['_id']}/publish", headers=owner.headers, json={})
    assert r.status_code == 201, r.text
    r = http.put(
        "/api/v1/tenant/brand", headers=owner.headers, json={"name": NAME, "primary_color": "#7c2d12"}
    )
    assert r.status_code == 200, r.text
    if logo:
        r = http.put(
            "/api/v1/tenant/brand/logo",
            headers={**owner.headers, "Content-Type": "image/png"},
            content=png((120, 40), (124, 45, 18)),
        )
        assert r.status_code == 200, r.text
    r = http.post(
        "/api/v1/sessions",
        headers=owner.headers,
        json={"tree_id": SEED["_id"], "ticket": "T-1", "title": "<script>alert(1)</script> VDA down"},
    )
    assert r.status_code == 201, r.text
    return owner, r.json()["session_id"]


def test_html_export_shows_the_brand_header_logo_and_footer_with_text_escaped(http):
    owner, sid = branded_session(http)
    html = http.get(f"/api/v1/sessions/{sid}/export", headers=owner.headers, params={"format": "html"}).text
    escaped = "Acme &lt;b&gt;IT&lt;/b&gt; &amp; Co"
    assert '<header class="brand" style="background: #7c2d12; color: #ffffff">' in html
    assert '<img src="data:image/png;base64,' in html and f'alt="{escaped} logo"' in html
    assert f"<span>{escaped}</span>" in html
    assert f'<footer class="brand-footer">Prepared by {escaped}</footer>' in html
    assert "<b>IT</b>" not in html and "<script>alert(1)</script>" not in html


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_pdf_export_carries_the_brand_name_logo_and_footer_on_every_page(http, tmp_path):
    owner, sid = branded_session(http)
    path = tmp_path / "export.pdf"
    r = http.get(f"/api/v1/sessions/{sid}/export", headers=owner.headers, params={"format": "pdf"})
    assert r.status_code == 200, r.text
    path.write_bytes(r.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    # The name prints as the literal text it is: the <b> was not taken for markup.
    assert NAME in text.stdout and f"Prepared by {NAME}" in text.stdout
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True)
    assert " 120    40 " in images.stdout  # the logo, embedded at its own size


def test_a_tenant_without_a_brand_keeps_the_plain_export(http):
    owner = Tenant(http, name="Plain MSP")
    assert http.post("/api/v1/trees/import", headers=owner.headers, json=SEED).status_code == 201
    http.post(f"/api/v1/trees/{SEED['_id']}/publish", headers=owner.headers, json={})
    sid = http.post("/api/v1/sessions", headers=owner.headers, json={"tree_id": SEED["_id"]}).json()[
        "session_id"
    ]
    html = http.get(f"/api/v1/sessions/{sid}/export", headers=owner.headers, params={"format": "html"}).text
    assert 'class="brand"' not in html and "Prepared by" not in html
