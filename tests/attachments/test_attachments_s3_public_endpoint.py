"""BRANCHLINE_S3_PUBLIC_ENDPOINT: pre-signed URLs for the address devices reach the bucket at.

In docker-compose the server reaches MinIO at http://minio:9000, a name no phone resolves.
Here the server talks to moto_server as http://127.0.0.1:PORT and devices are told
http://localhost:PORT: the same bucket under another host name. moto does not check
signatures, so the signature is checked here the way MinIO and S3 check it: for the Host
the request arrives with. A URL signed for the internal host and rewritten afterwards
would fail that check; one signed for the public host passes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from tests.attachments.helpers import confirm, new_id, png, presign, publish_tree, put, sha, start_session
from tests.conftest import ROOT, ServerProcess, free_port

BUCKET = "branchline-public"
SECRET = "testing-secret"


@pytest.fixture(scope="module")
def public_endpoint(moto) -> str:
    return f"http://localhost:{moto.port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory, moto, public_endpoint):
    env = {
        "BRANCHLINE_S3_ENDPOINT": moto.url,
        "BRANCHLINE_S3_BUCKET": BUCKET,
        "BRANCHLINE_S3_ACCESS_KEY": "testing",
        "BRANCHLINE_S3_SECRET_KEY": SECRET,
        "BRANCHLINE_S3_REGION": "us-east-1",
        "BRANCHLINE_S3_PUBLIC_ENDPOINT": public_endpoint + "/",
    }
    srv = ServerProcess(tmp_path_factory.mktemp("server-s3-public"), env=env).start()
    yield srv
    srv.stop()


def signed_for(url: str, method: str, host: str, headers: dict[str, str] | None = None) -> bool:
    """Whether a SigV4 query-signed URL is valid for a request arriving with this Host."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    values = {k.lower(): str(v) for k, v in (headers or {}).items()} | {"host": host}
    signed = params["X-Amz-SignedHeaders"].split(";")

    def enc(text: str) -> str:
        return quote(text, safe="-_.~")

    canonical = "\n".join(
        [
            method,
            parts.path,
            "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(query) if k != "X-Amz-Signature"),
            "".join(f"{name}:{values[name].strip()}\n" for name in signed),
            params["X-Amz-SignedHeaders"],
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + SECRET).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, params["X-Amz-Signature"])


def test_devices_upload_to_and_download_from_the_public_endpoint(http, tenant, moto, public_endpoint):
    sid = start_session(http, tenant, publish_tree(http, tenant))
    data, att_id = png(color=(200, 30, 90)), new_id()
    r = presign(http, tenant, sid, data, attachment_id=att_id)
    assert r.status_code == 201, r.text
    answer = r.json()
    url = answer["upload"]["url"]
    assert url.startswith(f"{public_endpoint}/{BUCKET}/{tenant.id}/incoming/{att_id}?")
    public_host, internal_host = urlsplit(public_endpoint).netloc, urlsplit(moto.url).netloc
    put_headers = {**answer["upload"]["headers"], "Content-Length": str(len(data))}
    assert signed_for(url, "PUT", public_host, put_headers)
    assert not signed_for(url, "PUT", internal_host, put_headers)  # the host is part of the signature

    assert put(answer, data).status_code == 200  # a real PUT to the public address
    r = confirm(http, tenant, sid, att_id)
    assert r.status_code == 200, r.text
    assert r.json()["event"]["sha256"] == sha(data)
    # The server itself still works through BRANCHLINE_S3_ENDPOINT: confirm moved the file.
    listing = moto.client().list_objects_v2(Bucket=BUCKET, Prefix=f"{tenant.id}/")
    assert [o["Key"] for o in listing["Contents"]] == [f"{tenant.id}/{att_id}"]

    r = http.get(
        f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=tenant.headers, follow_redirects=False
    )
    assert r.status_code == 307
    link = r.headers["location"]
    assert link.startswith(f"{public_endpoint}/{BUCKET}/{tenant.id}/{att_id}?")
    assert signed_for(link, "GET", public_host) and not signed_for(link, "GET", internal_host)
    got = httpx.get(link, timeout=30)
    assert got.status_code == 200 and got.content == data
    # Reading through the server (the PWA's fallback) is unaffected.
    r = http.get(
        f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=tenant.headers, params={"proxy": "true"}
    )
    assert r.status_code == 200 and r.content == data


@pytest.mark.parametrize(
    "value, bucket, says",
    [
        ("minio:9000", "branchline", "is not an http:// or https:// URL"),
        ("ftp://files.example-msp.com", "branchline", "is not an http:// or https:// URL"),
        ("https://files.example-msp.com/s3", "branchline", "has a path"),
        ("https://files.example-msp.com", "", "BRANCHLINE_S3_BUCKET is not"),
    ],
)
def test_a_bad_public_endpoint_stops_the_server_at_start_up(tmp_path, value, bucket, says):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHLINE_")}
    env |= {
        "BRANCHLINE_DATA_DIR": str(tmp_path),
        "BRANCHLINE_S3_PUBLIC_ENDPOINT": value,
        "BRANCHLINE_S3_BUCKET": bucket,
    }
    run = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: BRANCHLINE_S3_PUBLIC_ENDPOINT") and says in run.stderr
    if bucket:
        assert "e.g. https://files.example-msp.com" in run.stderr  # says what a good value looks like
