"""docker-compose.yml and the Dockerfile: validated here (no Docker engine on these machines).

`docker-compose config -q` (Debian's docker-compose 1.29 or any Compose) checks the file;
the structure test checks what the deployment promises: CouchDB 3 single node with its
admin from the environment, Branchline on the couchdb backend, MinIO, health checks and
volumes everywhere.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import yaml

from tests.conftest import ROOT

ENV = {"BRANCHLINE_SECRET_KEY": "s" * 48, "COUCHDB_USER": "admin", "COUCHDB_PASSWORD": "pw",
       "MINIO_ROOT_USER": "minio", "MINIO_ROOT_PASSWORD": "minio-password"}


def test_docker_compose_config_validates():
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is missing: the test command installs it (apt-get install docker-compose)"
    env = {**os.environ, **ENV}
    ok = subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], cwd=ROOT,
                        env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    # Secrets have no working default: leaving one out is an error, not a weak install.
    missing = {k: v for k, v in env.items() if k != "COUCHDB_PASSWORD"}
    bad = subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], cwd=ROOT,
                         env=missing, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "COUCHDB_PASSWORD" in bad.stderr


def test_compose_runs_couchdb_branchline_and_minio_with_health_checks_and_volumes():
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = spec["services"]
    assert set(services) == {"couchdb", "branchline", "minio"}
    assert services["couchdb"]["image"].startswith("couchdb:3")
    for name, svc in services.items():
        assert "healthcheck" in svc and svc.get("volumes"), name
    env = services["branchline"]["environment"]
    assert env["BRANCHLINE_BACKEND"] == "couchdb"
    assert env["BRANCHLINE_COUCHDB_URL"] == "http://couchdb:5984"
    assert services["branchline"]["depends_on"]["couchdb"]["condition"] == "service_healthy"
    assert "ports" not in services["couchdb"], "devices talk only to Branchline"
    assert set(spec["volumes"]) == {"couchdb-data", "branchline-index", "minio-data"}


def test_dockerfile_ships_the_design_documents():
    text = (ROOT / "Dockerfile").read_text()
    assert "COPY design_docs/ design_docs/" in text and "PYTHONPATH=/app" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
