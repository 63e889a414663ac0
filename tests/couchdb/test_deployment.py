"""docker-compose.yml and the Dockerfile: validated here (no Docker engine on these machines).

`docker-compose config -q` (Debian's docker-compose 1.29 or any Compose) checks the file;
the structure test checks what the deployment promises: CouchDB 3 single node with its
admin from the environment, two Branchline instances on the couchdb backend behind Caddy
(deploy/Caddyfile), MinIO, health checks and volumes everywhere, as README's "Growing: two
instances" lists them. Caddy itself runs in tests/couchdb/test_caddy_two_instances.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import yaml

from tests.conftest import ROOT

ENV = {
    "BRANCHLINE_SECRET_KEY": "s" * 48,
    "COUCHDB_USER": "admin",
    "COUCHDB_PASSWORD": "pw",
    "MINIO_ROOT_USER": "minio",
    "MINIO_ROOT_PASSWORD": "minio-password",
}


def test_docker_compose_config_validates():
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is missing: the test command installs it (apt-get install docker-compose)"
    env = {**os.environ, **ENV}
    ok = subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    # Secrets have no working default: leaving one out is an error, not a weak install.
    missing = {k: v for k, v in env.items() if k != "COUCHDB_PASSWORD"}
    bad = subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        cwd=ROOT,
        env=missing,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "COUCHDB_PASSWORD" in bad.stderr


def test_compose_runs_two_instances_behind_caddy_on_couchdb_with_health_checks_and_volumes():
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = spec["services"]
    assert set(services) == {"caddy", "branchline-a", "branchline-b", "couchdb", "minio"}
    assert services["couchdb"]["image"].startswith("couchdb:3")
    for name, svc in services.items():
        assert "healthcheck" in svc and svc.get("volumes"), name
    instances = [services["branchline-a"], services["branchline-b"]]
    assert instances[0]["environment"] == instances[1]["environment"], "only their names and volumes differ"
    env = instances[0]["environment"]
    assert env["BRANCHLINE_BACKEND"] == "couchdb"
    assert env["BRANCHLINE_COUCHDB_URL"] == "http://couchdb:5984"
    for svc in instances:
        assert svc["depends_on"]["couchdb"]["condition"] == "service_healthy"
        assert "ports" not in svc, "devices reach the instances through Caddy only"
    # Each instance keeps its own rebuildable index: two processes never share one index file.
    index_volumes = [svc["volumes"][0].split(":")[0] for svc in instances]
    assert index_volumes == ["branchline-a-index", "branchline-b-index"]
    assert "ports" not in services["couchdb"], "devices talk only to Branchline"

    caddy = services["caddy"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert caddy["environment"]["BRANCHLINE_UPSTREAMS"].split() == ["branchline-a:8000", "branchline-b:8000"]
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    # The instances trust X-Forwarded-For from Caddy's fixed address, and only from it.
    caddy_ip = caddy["networks"]["branchline"]["ipv4_address"]
    assert env["FORWARDED_ALLOW_IPS"] == caddy_ip
    assert set(spec["volumes"]) == {
        "caddy-data",
        "caddy-config",
        "branchline-a-index",
        "branchline-b-index",
        "couchdb-data",
        "minio-data",
    }


def readme_services() -> dict[str, dict[str, str]]:
    """The service table of README's "Growing: two instances": name -> its cells."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Growing: two instances", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    table = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) == 4:
            table[cells[0].strip("`")] = {"what": cells[1], "health": cells[2], "volumes": cells[3]}
    return table


def test_the_readme_documents_every_service_its_health_check_and_its_volumes():
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    documented = readme_services()
    assert set(documented) == set(spec["services"])
    for name, svc in spec["services"].items():
        volumes = {v.split(":")[0] for v in svc["volumes"] if not v.startswith("./")}
        assert {v.strip().strip("`") for v in documented[name]["volumes"].split(",")} == volumes, name
        assert documented[name]["health"], name
    for name in ("branchline-a", "branchline-b"):
        assert "/healthz" in documented[name]["health"]
        assert "/healthz" in " ".join(spec["services"][name]["healthcheck"]["test"])


def test_the_caddyfile_takes_its_site_tls_and_upstreams_from_the_environment():
    exe = shutil.which("caddy")
    assert exe, "Caddy is missing: the test command installs it (apt-get install caddy)"
    env = {
        **os.environ,
        "BRANCHLINE_SITE": "branchline.example.net",
        "BRANCHLINE_TLS": "ops@example.net",
        "BRANCHLINE_UPSTREAMS": "10.0.0.5:8000 10.0.0.6:8000 10.0.0.7:8000",
    }
    caddyfile = str(ROOT / "deploy" / "Caddyfile")
    out = subprocess.run(
        [exe, "adapt", "--config", caddyfile, "--adapter", "caddyfile"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    config = json.loads(out.stdout)
    server = config["apps"]["http"]["servers"]["srv0"]
    assert server["routes"][0]["match"] == [{"host": ["branchline.example.net"]}]
    proxy = server["routes"][0]["handle"][0]["routes"][0]["handle"][0]
    assert [u["dial"] for u in proxy["upstreams"]] == ["10.0.0.5:8000", "10.0.0.6:8000", "10.0.0.7:8000"]
    assert proxy["health_checks"]["active"]["uri"] == "/healthz"
    assert proxy["flush_interval"] == -1  # live sync feeds are streamed, not buffered
    issuers = config["apps"]["tls"]["automation"]["policies"][0]["issuers"]
    assert issuers[0]["module"] == "acme" and issuers[0]["email"] == "ops@example.net"


def test_dockerfile_ships_the_design_documents():
    text = (ROOT / "Dockerfile").read_text()
    assert "COPY design_docs/ design_docs/" in text and "PYTHONPATH=/app" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
