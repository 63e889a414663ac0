"""`branchline migrate` makes on-read migrations permanent."""

from __future__ import annotations

from api.auth.service import create_tenant
from api.core.context import AppContext
from api.features import install_hooks
from api.settings import Settings
from api.trees import migrations, service
from sync.access import Principal
from tests.conftest import STRONG_PASSWORD, unique_email
from tests.trees_api.test_trees_api import small_tree


def test_migrate_rewrites_old_documents_once(tmp_path, monkeypatch):
    ctx = AppContext.create(Settings(data_dir=tmp_path, secret_key="k" * 40))
    install_hooks(ctx)
    tenant, _ = create_tenant(
        ctx,
        tenant_name="M",
        email=unique_email(),
        password=STRONG_PASSWORD,
        display_name="",
        starter_library=False,
    )
    tid = tenant["tenant_id"]
    db = service.trees_db(ctx, tid)
    # A document written by an imaginary older release: version 0 called descriptions "summary".
    old = {**small_tree(title="Old one"), "_id": "tree:old-one", "schema_version": 0}
    old["summary_text"] = old.pop("description")
    db.put(old)

    def v0_to_v1(doc):
        doc["description"] = doc.pop("summary_text", "")
        return doc

    monkeypatch.setitem(migrations.MIGRATIONS, 0, v0_to_v1)
    who = Principal(tenant_id=tid, user_id="u", role="owner")
    assert service.get_tree(ctx, who, "tree:old-one")["description"] == "Printer shows offline."  # on read
    assert db.get("tree:old-one")["schema_version"] == 0  # reading never writes
    assert service.migrate_stored(ctx, tid, dry_run=True) == {"checked": 1, "migrated": 1}
    assert db.get("tree:old-one")["schema_version"] == 0
    assert service.migrate_stored(ctx, tid) == {"checked": 1, "migrated": 1}
    stored = db.get("tree:old-one")
    assert stored["schema_version"] == 1 and stored["description"] == "Printer shows offline."
    assert "summary_text" not in stored
    assert service.migrate_stored(ctx, tid) == {"checked": 1, "migrated": 0}
    ctx.store.close()
