"""The design documents' JavaScript, unit-tested in Node (node --test), and their files."""

from __future__ import annotations

import shutil
import subprocess

import orjson
import pytest

from sync.couchdb_ddocs import conflicts_ddoc, mango_indexes, validate_ddoc
from tests.couchdb.helpers import HERE


def test_validate_doc_update_in_node():
    if shutil.which("node") is None:
        pytest.fail("Node.js is needed for the design-document tests")
    proc = subprocess.run(
        ["node", "--test", str(HERE / "node" / "validate_doc_update.test.mjs")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout


def test_design_documents_load_and_are_versioned_by_content():
    for ddoc in (validate_ddoc(), conflicts_ddoc()):
        assert len(ddoc["branchline_version"]) == 16
        orjson.dumps(ddoc)
    assert conflicts_ddoc()["views"]["conflicts"]["reduce"] == "_count"
    names = {i["name"] for i in mango_indexes("sessions")}
    assert names == {"by-type", "events-by-session"}
    assert all(i["ddoc"].startswith("branchline-idx-") for i in mango_indexes("system"))
