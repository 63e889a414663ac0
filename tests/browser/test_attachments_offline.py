"""An attachment pasted into a step with no network reaches the server once the network returns.

Real Chromium, a real server, real PouchDB (IndexedDB) and the PWA's own attachment queue
(`pwa/src/attachments/`), bundled with the PWA's esbuild into a small probe page served
from the server's origin (route interception), because the app does not wire the queue in
yet. The probe does what the app's step card does: a paste handler queues the pasted
screenshot, the auto-uploader sends it when online, and only then the `attachment_added`
event is written into the local PouchDB, which live replication pushes to the server.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.attachments.helpers import publish_tree, sha
from tests.conftest import ROOT, Tenant, wait_until

POUCHDB_JS = ROOT / "tests/node/node_modules/pouchdb/dist/pouchdb.js"
ESBUILD = ROOT / "pwa/node_modules/.bin/esbuild"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>attachments probe</title></head>
<body><div id="step" data-node="scope" tabindex="0">Is only one VDA affected?</div>
<ul id="queue"></ul></body></html>"""

ENTRY = """
import { AttachmentQueue, addAttachment, attachmentEventDoc, createUploader, startAutoUpload }
  from "%s";
(window as any).BL = { AttachmentQueue, addAttachment, attachmentEventDoc, createUploader, startAutoUpload };
"""

# What the app's session screen does, in a few lines: PouchDB with live push, the queue,
# the uploader, the auto-runner, a paste handler on the step card and a status list.
SETUP = """
async ({syncUrl, token, sid, userId, backoff}) => {
  const authFetch = (url, opts = {}) => {
    const headers = new Headers(opts.headers || {});
    headers.set('Authorization', 'Bearer ' + token);
    return fetch(url, {...opts, headers});
  };
  const local = new PouchDB('sessions-probe');
  const remote = new PouchDB(syncUrl, {fetch: (u, o) => { o.headers.set('Authorization', 'Bearer ' + token);
                                                         return PouchDB.fetch(u, o); }, skip_setup: true});
  local.replicate.to(remote, {live: true, retry: true, back_off_function: () => 300});
  const queue = new BL.AttachmentQueue({dbName: 'attachments-probe', backoff});
  const upload = BL.createUploader({base: '', apiFetch: authFetch});
  const writeEvent = async (item, stored) => {
    try {
      await local.put(BL.attachmentEventDoc(item, stored, {userId, deviceId: 'probe-device'}));
    } catch (e) {
      if (e.status !== 409) throw e;  // written by an earlier attempt: nothing to do
    }
  };
  window.probe = {queue, local, statuses: []};
  queue.subscribe((items, summary) => {
    window.probe.items = items;
    window.probe.summary = summary;
    for (const i of items) window.probe.statuses.push(i.status + (i.last_error ? ': ' + i.last_error : ''));
    document.getElementById('queue').innerHTML = items.map(i => `<li>${i.name}: ${i.status}</li>`).join('');
  });
  window.probe.stop = BL.startAutoUpload({queue, upload, writeEvent});
  const step = document.getElementById('step');
  step.addEventListener('paste', (e) => {
    for (const file of e.clipboardData.files) {
      BL.addAttachment(queue, {sessionId: sid, nodeId: step.dataset.node, file}, upload, writeEvent);
    }
  });
  return true;
}
"""

# A screenshot drawn on a canvas, pasted into the step card as the clipboard would deliver it.
PASTE = """
async () => {
  const canvas = document.createElement('canvas');
  canvas.width = 400; canvas.height = 250;
  const g = canvas.getContext('2d');
  g.fillStyle = '#c01010'; g.fillRect(0, 0, 400, 250);
  g.fillStyle = '#ffffff'; g.fillRect(40, 40, 160, 60);
  const blob = await new Promise(r => canvas.toBlob(r, 'image/png'));
  const dt = new DataTransfer();
  dt.items.add(new File([blob], 'image.png', {type: 'image/png'}));
  document.getElementById('step')
    .dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true}));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return Array.from(bytes);
}
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    if not ESBUILD.exists():
        pytest.skip("the PWA's node_modules are not installed (npm ci in pwa/)")
    folder = tmp_path_factory.mktemp("probe")
    entry = folder / "entry.ts"
    entry.write_text(ENTRY % (ROOT / "pwa/src/attachments/index.ts"))
    out = folder / "probe.js"
    subprocess.run(
        [str(ESBUILD), str(entry), "--bundle", "--format=iife", "--target=es2022", f"--outfile={out}"],
        check=True,
        capture_output=True,
        cwd=ROOT / "pwa",
    )
    return out.read_text()


def _open_probe(context, server, bundle, http, engineer, sid, backoff=None):
    me = http.get("/api/v1/me", headers=engineer.headers).json()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(f"{server.url}/probe.html", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
    page.route(
        f"{server.url}/probe.js", lambda route: route.fulfill(body=bundle, content_type="text/javascript")
    )
    page.goto(f"{server.url}/probe.html")
    page.add_script_tag(path=str(POUCHDB_JS))
    page.add_script_tag(url=f"{server.url}/probe.js")
    page.evaluate(
        SETUP,
        {
            "syncUrl": me["sync"]["databases"]["sessions"],
            "token": engineer.tokens["access_token"],
            "sid": sid,
            "userId": engineer.id,
            "backoff": backoff or {"baseMs": 500, "maxMs": 2000, "jitter": 0},
        },
    )
    return page, errors


def _state(http, who, sid):
    return http.get(f"/api/v1/sessions/{sid}", headers=who.headers).json()


def test_a_screenshot_pasted_offline_is_on_the_server_and_in_the_pdf_once_online(
    browser, server, http, bundle, tmp_path
):
    tenant = Tenant(http)
    engineer = tenant.add_user("engineer")
    tree_id = publish_tree(http, tenant)
    r = http.post(
        "/api/v1/sessions", headers=engineer.headers, json={"tree_id": tree_id, "title": "offline shot"}
    )
    sid = r.json()["session_id"]
    assert (
        http.post(
            f"/api/v1/sessions/{sid}/events",
            headers=engineer.headers,
            json={"type": "answered", "node_id": "scope", "answer": "yes"},
        ).status_code
        == 201
    )

    context = browser.new_context()
    try:
        page, errors = _open_probe(context, server, bundle, http, engineer, sid)
        context.set_offline(True)  # no signal in the server room
        assert page.evaluate("navigator.onLine") is False
        pasted = bytes(page.evaluate(PASTE))
        wait_until(
            lambda: page.evaluate("window.probe.items && window.probe.items.length === 1"),
            timeout=10,
            message="the pasted screenshot in the queue",
        )
        page.wait_for_timeout(1500)  # offline for a while: several backoff periods pass
        item = page.evaluate("window.probe.items[0]")
        assert item["status"] == "queued" and item["attempts"] == 0 and item["sha256"] == sha(pasted)
        assert item["node_id"] == "scope" and item["name"].startswith("image")
        # Nothing reached the server: no file, no event.
        assert not (server.data_dir / "attachments" / tenant.id).exists() or not list(
            (server.data_dir / "attachments" / tenant.id).iterdir()
        )
        assert _state(http, engineer, sid)["attachments"] == {}
        local_events = page.evaluate(
            f"window.probe.local.allDocs({{startkey: 'session:{sid}:ev:', "
            f"endkey: 'session:{sid}:ev:\\ufff0'}}).then(r => r.rows.length)"
        )
        assert local_events == 0  # the event waits for the file

        context.set_offline(False)  # back in signal
        att_id = item["attachment_id"]
        state = wait_until(
            lambda: (s := _state(http, engineer, sid))["attachments"].get("scope") and s,
            timeout=30,
            message="the attachment_added event on the server",
        )
        att = state["attachments"]["scope"][0]
        assert (att["attachment_id"], att["sha256"], att["size"], att["content_type"], att["device_id"]) == (
            att_id,
            sha(pasted),
            len(pasted),
            "image/png",
            "probe-device",
        )
        r = http.get(f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=engineer.headers)
        assert r.status_code == 200 and r.content == pasted
        wait_until(
            lambda: page.evaluate("window.probe.items[0].status") == "done", timeout=10, message="queue done"
        )
        assert errors == []
    finally:
        context.close()

    pdf = http.get(f"/api/v1/sessions/{sid}/export", headers=engineer.headers, params={"format": "pdf"})
    assert pdf.status_code == 200
    path = tmp_path / "offline.pdf"
    path.write_bytes(pdf.content)
    if shutil.which("pdfimages"):
        rows = (
            subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True)
            .stdout.strip()
            .splitlines()[2:]
        )
        assert len(rows) == 1 and rows[0].split()[3:5] == ["400", "250"], rows
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
        assert (
            text.index("Scoped the issue to a single VDA.")
            < text.index(att["name"])
            < text.index("Which VDA?")
        )


def test_a_failed_upload_is_shown_retried_and_survives_a_reload(browser, server, http, bundle):
    tenant = Tenant(http)
    engineer = tenant.add_user("engineer")
    sid = http.post(
        "/api/v1/sessions", headers=engineer.headers, json={"tree_id": publish_tree(http, tenant)}
    ).json()["session_id"]
    context = browser.new_context()
    try:
        # The server's upload route fails (a proxy in trouble) until we let it through.
        broken = {"on": True}

        def flaky(route):
            if broken["on"]:
                route.fulfill(
                    status=503,
                    content_type="application/json",
                    body='{"error": "unavailable", "reason": "The server is restarting."}',
                )
            else:
                route.continue_()

        context.route("**/api/v1/sessions/*/attachments**", flaky)
        page, errors = _open_probe(context, server, bundle, http, engineer, sid)
        page.evaluate(PASTE)
        wait_until(
            lambda: page.evaluate("(window.probe.items || [])[0]?.attempts >= 2"),
            timeout=15,
            message="two failed attempts",
        )
        item = page.evaluate("window.probe.items[0]")
        assert item["status"] in ("failed", "uploading", "queued")
        assert "failed: The server is restarting." in page.evaluate("window.probe.statuses")
        assert "The server is restarting." in page.evaluate("window.probe.summary.lastError")
        assert _state(http, engineer, sid)["attachments"] == {}

        # The page goes away; the next one finds the file still queued and finishes the job.
        page.close()
        broken["on"] = False
        # (Playwright's sync API runs route handlers only inside its own calls; the polling
        # below is plain HTTP, so the interception is removed rather than left to pass through.)
        context.unroute("**/api/v1/sessions/*/attachments**")
        page, errors = _open_probe(context, server, bundle, http, engineer, sid)
        wait_until(
            lambda: _state(http, engineer, sid)["attachments"].get("scope"),
            timeout=30,
            message="the attachment on the server after the reload",
        )
        wait_until(
            lambda: page.evaluate("(window.probe.items || [])[0]?.status") == "done",
            timeout=10,
            message="queue done",
        )
        assert len(_state(http, engineer, sid)["attachments"]["scope"]) == 1
        assert errors == []
    finally:
        context.close()
