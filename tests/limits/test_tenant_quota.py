"""Tenant storage quotas against a real server: a team that fills its quota is refused new
documents (413 `quota_exceeded`, on sync and API alike) while deleting still works, and
other teams are unaffected."""

from __future__ import annotations

MB = 1024 * 1024
SERVER_ENV = {"BRANCHLINE_TENANT_QUOTA_BYTES": str(3 * MB), "BRANCHLINE_TENANT_QUOTA_CACHE_SECONDS": "0"}


def _client_doc(i: int) -> dict:
    # The bulk in `values` (free-form; `notes` is capped far below a megabyte).
    return {
        "type": "client",
        "schema_version": 1,
        "name": f"Client {i}",
        "values": {"inventory": "q" * (900 * 1024)},
    }


def test_a_full_team_is_refused_new_documents_but_may_delete(http, make_tenant):
    a, b = make_tenant(), make_tenant()
    answers, revs = [], {}
    for i in range(12):
        r = http.put(f"/sync/{a.id}/clients/client:{i}", headers=a.headers, json=_client_doc(i))
        answers.append(r)
        if r.status_code == 201:
            revs[f"client:{i}"] = r.json()["rev"]
        else:
            break
    refused = answers[-1]
    assert refused.status_code == 413, [r.status_code for r in answers]
    assert 1 <= len(revs) < 12
    body = refused.json()
    assert body["error"] == "quota_exceeded"
    assert "3.0 MB" in body["reason"] and "BRANCHLINE_TENANT_QUOTA_BYTES" in body["reason"]
    # The API refuses too, however small the document.
    r = http.post("/api/v1/clients", headers=a.headers, json={"name": "One more"})
    assert r.status_code == 413 and r.json()["error"] == "quota_exceeded", r.text
    # Deleting is how a team makes room: never refused.
    docid, rev = next(iter(revs.items()))
    assert (
        http.delete(f"/sync/{a.id}/clients/{docid}", params={"rev": rev}, headers=a.headers).status_code
        == 200
    )
    # Replication checkpoints still save, so devices keep their place.
    assert (
        http.put(
            f"/sync/{a.id}/clients/_local/device-1", headers=a.headers, json={"last_seq": "5"}
        ).status_code
        == 201
    )
    # Another team writes as usual.
    assert (
        http.put(f"/sync/{b.id}/clients/client:fine", headers=b.headers, json=_client_doc(0)).status_code
        == 201
    )
