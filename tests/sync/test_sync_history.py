"""The history id in the server's welcome `uuid` (api/sync_history.py): created once per
data folder even when several server processes start on it together, kept across restarts,
and new for a folder that lacks it (a restored one)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from api.sync_history import document_history, file_history, welcome_uuid
from sync.embedded import EmbeddedStore


def _first_start(folder: str, start, out) -> None:
    start.wait()
    out.put(file_history(Path(folder)))


def test_processes_starting_together_on_one_folder_agree_on_its_history(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_first_start, args=(str(tmp_path), start, out)) for _ in range(4)]
    for p in procs:
        p.start()
    start.set()
    answers = {out.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(30)
    assert len(answers) == 1
    assert file_history(tmp_path) == answers.pop()  # kept: a restart reads the same one
    assert not [p for p in tmp_path.iterdir() if p.name != "sync-history"]  # no staged file left


def test_a_folder_without_the_file_gets_a_new_history_and_a_new_uuid(tmp_path):
    old, new = file_history(tmp_path / "old"), file_history(tmp_path / "restored")
    assert old != new
    assert welcome_uuid("acme", old) != welcome_uuid("acme", new)
    assert welcome_uuid("acme", old) == welcome_uuid("acme", old)
    assert welcome_uuid("acme", old) != welcome_uuid("other", old)


def test_the_system_database_keeps_one_history_for_every_instance(tmp_path):
    store = EmbeddedStore(tmp_path)
    try:
        store.create_db("branchline_system")
        system = store.db("branchline_system")
        first = document_history(system)
        assert document_history(system) == first
        system.delete_local("_local/branchline-sync-history", None)
        assert document_history(system) != first  # deleted after a file-level restore: a new one
    finally:
        store.close()
