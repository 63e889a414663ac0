"""The history id in the server's welcome `uuid` (api/sync_history.py): one per data folder,
agreed by every server process on it, kept across clean restarts, and new after a process
stopped without closing (a power cut may have taken its last commits) or a restore."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

from api.sync_history import (
    document_history,
    file_history,
    forget_file_history,
    start_file_history,
    tenant_uuid,
)
from sync.embedded import EmbeddedStore

SPAWN = multiprocessing.get_context("spawn")


def _server_process(folder: str, go, out, stop) -> None:
    go.wait()
    history, close = start_file_history(Path(folder))
    out.put(history)
    stop.wait()
    close()


def _start(folder: Path, n: int):
    go, out, stop = SPAWN.Event(), SPAWN.Queue(), SPAWN.Event()
    procs = [SPAWN.Process(target=_server_process, args=(str(folder), go, out, stop)) for _ in range(n)]
    for p in procs:
        p.start()
    go.set()
    return procs, {out.get(timeout=60) for _ in procs}, stop


def test_processes_starting_together_agree_and_a_clean_restart_keeps_the_history(tmp_path):
    procs, answers, stop = _start(tmp_path, 4)
    assert len(answers) == 1
    # Started while they run: their marks are held, so nothing stopped uncleanly.
    history, close = start_file_history(tmp_path)
    assert {history} == answers
    close()
    stop.set()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    history, close = start_file_history(tmp_path)
    assert {history} == answers
    close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sync-history", "sync-history.lock", "sync-running"]
    assert list((tmp_path / "sync-running").iterdir()) == []


def test_a_process_killed_while_running_makes_the_next_start_begin_a_new_history(tmp_path):
    procs, answers, _stop = _start(tmp_path, 1)
    os.kill(procs[0].pid, signal.SIGKILL)
    procs[0].join(30)
    history, close = start_file_history(tmp_path)
    assert history not in answers
    close()
    again, close = start_file_history(tmp_path)  # that stop was clean: kept
    assert again == history
    close()


def test_a_restored_folder_or_one_without_the_file_gets_a_new_history_and_uuid(tmp_path):
    old = file_history(tmp_path)
    forget_file_history(tmp_path)  # what `branchline restore` does
    new = file_history(tmp_path)
    assert old != new
    assert tenant_uuid("acme", old) != tenant_uuid("acme", new)
    assert tenant_uuid("acme", old) == tenant_uuid("acme", old)
    assert tenant_uuid("acme", old) != tenant_uuid("other", old)


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
