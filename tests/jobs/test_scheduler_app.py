"""The real app starts the job runner with its lifespan and stops it on shutdown (embedded backend).

One process: the lease is local, the job records live in the embedded system database.
"""

from __future__ import annotations

from sync.embedded import EmbeddedStore
from tests.conftest import ServerProcess, wait_until


def test_the_embedded_server_runs_its_jobs_and_records_them(tmp_path):
    server = ServerProcess(
        tmp_path / "data",
        env={"BRANCHLINE_CLEANUP_INTERVAL_SECONDS": "1", "BRANCHLINE_SCHEDULER_LEASE_SECONDS": "0.6"},
    ).start()
    try:
        store = EmbeddedStore(server.data_dir)
        try:
            system = store.db("branchline_system")

            def sweeps() -> list[dict]:
                return system.get("job:refresh-token-sweep").get("history", [])

            wait_until(lambda: len(sweeps()) >= 2, timeout=30, message="two runs of the token sweep")
            runs = sweeps()
            assert all(r["ok"] and r["by"].split(":")[1] == str(server.proc.pid) for r in runs), runs
            assert len({r["slot"] for r in runs}) == len(runs)
            # The nightly backup is known to the runner, waiting for 02:30 UTC.
            backup = system.get("job:backup-nightly")
            assert backup["history"] == [] and backup["name"] == "nightly backup of every tenant"
        finally:
            store.close()
    finally:
        server.stop()
    # The runner stopped with the app: a clean shutdown, nothing failed on the way out.
    log = server.log_path.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
