"""Team load benchmark: N engineers at once, each a real PouchDB client syncing live.

Starts Branchline (uvicorn, a fresh data folder, a free loopback port; the per-address and
registration limits raised as the tests raise them), registers a tenant and N engineers,
and gives every pair of engineers two sessions (each owns one, shared with the other).
Then Node processes (benchmarks/node/team_worker.js, several so no single event loop is the
bottleneck) play the engineers: each holds the PWA's live replication
(pwa/src/data/local.ts: trees pulled with its selector, sessions and clients synced both
ways, longpoll feeds, retry with the PWA's back-off) and, every 2 s, records one note event
in its own session: through sync (written to the local PouchDB, pushed by the replication)
or, for a share of them, through `POST /api/v1/sessions/{id}/events`. A few Markdown
exports run beside them.

What is measured (each as p50/p95/p99, on the generator's monotonic clock):

- REST write: request sent until the answer arrived.
- device to server: the local write until the push replication reports the batch holding
  it written to the server (PouchDB emits its `change` event after `_bulk_docs` answered,
  so the server has committed it). No extra connection is needed and nothing is polled.
- device to device: A's local write until B's pull replication wrote it into B's local
  PouchDB (B shares A's session; both live in the same Node process, so one clock).

Errors (counted in requests or events): HTTP answers other than 201/200, replications
paused on an error, denied writes, events not on the partner's device or not on the server
after a drain (default 30 s), and lost events: acknowledged by the server (a 201, or a push
batch it answered) yet missing from its sessions database when read after the drain. A
request that fails on a keep-alive connection the server had just closed while idle is
sent once more, as browsers do, and counted apart ("resent").
Also printed: events/s offered and acknowledged within the window, server CPU seconds in
the window, RSS and open descriptors (from /proc; peak sampled each second), the
generator's own CPU seconds, and the load average.

    .venv/bin/python benchmarks/load_team.py                       # 200 engineers, 60 s
    .venv/bin/python benchmarks/load_team.py --engineers 50,200,500  # a table of sizes
    .venv/bin/python benchmarks/load_team.py --closed-loop --writers 16  # REST back to back
    .venv/bin/python benchmarks/load_team.py --closed-loop --session-events 60  # ...over fresh sessions
    .venv/bin/python benchmarks/load_team.py --backend couchdb     # pouchdb-server + 2 instances
    .venv/bin/python benchmarks/load_team.py --engineers 500 --drop-at 30  # a team reconnecting

Each size runs on a freshly started server. `--closed-loop` replaces the open-loop team by
K writers posting events back to back (round robin over the engineers' sessions) while the
engineers' feeds stay open (`--no-feeds` closes them). Its sessions grow by hundreds of
events a minute; `--session-events K` has each engineer start a new session after K events
(a service desk's tickets one after another; the starts are timed and printed apart).
`--backend couchdb` runs
pouchdb-server (tests/node/node_modules) as the CouchDB stand-in with two Branchline
instances on it; engineers alternate between the instances, so a pair's events cross over.
Access tokens are issued for 60 minutes so that no refresh happens during a run.
`--generator-nice N` runs the generator's Node processes at niceness N: the generator and the
server share the two cores, and this shows how the server fares when the generator yields
(the generator's own delays still count in every latency it measures).
`--drop-at S` closes every device's connections at once S seconds into the window (the
office's Wi-Fi, a proxy restarting): requests in flight fail, the whole team connects again
together, and the run prints, per engineer, the time from the drop until a write made after
it reached the server. The replications the drop paused are expected then; the run fails
only if an engineer never came back or an event was lost or left on a device.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

import httpx
from serve import cpu_seconds, process_tree, serve_command

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"
WORKER = Path(__file__).resolve().parent / "node" / "team_worker.js"
sys.path.insert(0, str(ROOT))

from tests.ts_runner import bundle_for_require  # noqa: E402

PASSWORD = "correct horse battery staple 42"
# As tests/conftest.py: a whole team signs in from 127.0.0.1, and many_tenants registers
# a thousand teams from it. Per-user, per-team and export limits keep their defaults.
BENCH_ENV = {
    "BRANCHLINE_RATE_LIMIT_ADDRESS_PER_MINUTE": "1000000",
    "BRANCHLINE_RATE_LIMIT_REGISTRATIONS_PER_HOUR": "1000000",
    "BRANCHLINE_ACCESS_TOKEN_MINUTES": "60",
    "BRANCHLINE_LOG_LEVEL": "warning",
}

# The smallest tree a session can run: the benchmark only records notes on its first step.
BENCH_TREE: dict[str, Any] = {
    "_id": "tree:bench-printer",
    "type": "tree",
    "schema_version": 1,
    "title": "Printer offline",
    "description": "A shared printer shows offline.",
    "category": "Printing",
    "tags": ["printer"],
    "start": "scope",
    "nodes": {
        "scope": {
            "type": "question",
            "title": "Is only one user affected?",
            "next": {"yes": "fixed", "no": "fixed"},
            "log": {"yes": "Only one user was affected.", "no": "Several users were affected."},
        },
        "fixed": {
            "type": "resolution",
            "outcome": "resolved",
            "title": "Printer back online",
            "summary": "The printer prints again.",
            "handover": None,
        },
    },
}


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server for {url} exited with {proc.returncode} while starting")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"server at {url} did not come up within {timeout:.0f} s")


@dataclass
class Server:
    """A process we started, with its figures from /proc."""

    name: str
    proc: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)  # with its worker processes, if any

    def rss_mb(self) -> float:
        total = 0.0
        for pid in process_tree(self.proc.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                continue
        return total

    def fds(self) -> int:
        total = 0
        for pid in process_tree(self.proc.pid):
            try:
                total += len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                continue
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_branchline(
    data_dir: Path, env: dict[str, str], name: str = "branchline", workers: int = 1
) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {**os.environ, "BRANCHLINE_DATA_DIR": str(data_dir), **BENCH_ENV, **env}
    full_env.setdefault("BRANCHLINE_SECRET_KEY", secrets.token_urlsafe(40))
    if workers > 1:
        full_env["BRANCHLINE_PROCESSES"] = str(workers)
    log = open(data_dir / "server.log", "ab")
    proc = subprocess.Popen(
        serve_command(port, graceful_s=2, workers=workers),
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc)
    return Server(name, proc, url)


def start_pouchdb_server(workdir: Path) -> tuple[Server, dict[str, str]]:
    """pouchdb-server in memory with a service admin; answers the env of an instance on it."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    binary = NODE_MODULES / "pouchdb-server" / "bin" / "pouchdb-server"
    proc = subprocess.Popen(
        ["node", str(binary), "--in-memory", "-p", str(port), "-n"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/", proc)
    password = "svc-" + secrets.token_hex(8)
    httpx.put(f"{url}/_config/admins/branchline", json=password, timeout=10).raise_for_status()
    env = {
        "BRANCHLINE_BACKEND": "couchdb",
        "BRANCHLINE_COUCHDB_URL": url,
        "BRANCHLINE_COUCHDB_USER": "branchline",
        "BRANCHLINE_COUCHDB_PASSWORD": password,
    }
    return Server("pouchdb-server", proc, url), env


@dataclass
class Cluster:
    """The Branchline instances engineers talk to, and what they stand on."""

    instances: list[Server]
    others: list[Server] = field(default_factory=list)

    def stop(self) -> None:
        for srv in [*self.instances, *self.others]:
            srv.stop()


@contextmanager
def cluster(backend: str, workdir: Path, workers: int = 1) -> Iterator[Cluster]:
    started: list[Server] = []
    try:
        if backend == "couchdb":
            couch, env = start_pouchdb_server(workdir / "couchdb")
            started.append(couch)
            env["BRANCHLINE_SECRET_KEY"] = secrets.token_urlsafe(40)
            a = start_branchline(workdir / "a", env, "branchline-a")
            started.append(a)
            b = start_branchline(workdir / "b", env, "branchline-b")
            started.append(b)
            yield Cluster([a, b], [couch])
        else:
            srv = start_branchline(workdir / "data", {}, workers=workers)
            started.append(srv)
            yield Cluster([srv])
    finally:
        for srv in started:
            srv.stop()


# --- the team ------------------------------------------------------------------------------


def expect(r: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if r.status_code != status:
        raise SystemExit(f"{what} answered {r.status_code} (expected {status}): {r.text[:500]}")
    body: dict[str, Any] = r.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register_tenant(http: httpx.Client, name: str) -> dict[str, Any]:
    """A new tenant without the starter library; answers its owner's tokens and /me."""
    tokens = expect(
        http.post(
            "/api/v1/auth/register",
            json={
                "tenant_name": name,
                "email": f"owner-{secrets.token_hex(6)}@example.com",
                "password": PASSWORD,
                "display_name": "Owner",
                "starter_library": False,
            },
        ),
        201,
        "registering a tenant",
    )
    me = expect(http.get("/api/v1/me", headers=bearer(tokens["access_token"])), 200, "GET /api/v1/me")
    return {"token": tokens["access_token"], "me": me}


def setup_team(
    instances: Sequence[Server],
    engineers: int,
    first_index: int = 0,
    owner: dict[str, Any] | None = None,
    threads: int = 8,
) -> list[dict[str, Any]]:
    """A tenant (`owner` as register_tenant answers it, or a new one) with `engineers`
    engineers, each owning a session shared with its partner.

    Answers one spec per engineer for team_worker.js; engineer i talks to instance i % the
    number of instances, and partners are neighbours (2k, 2k+1)."""
    base = instances[0].url
    with httpx.Client(base_url=base, timeout=120) as http:
        owner = owner or register_tenant(http, f"Bench MSP {secrets.token_hex(3)}")
        admin = bearer(owner["token"])
        expect(http.post("/api/v1/trees", headers=admin, json=BENCH_TREE), 201, "creating the tree")
        r = http.post(f"/api/v1/trees/{BENCH_TREE['_id']}/publish", headers=admin, json={"change_note": "v1"})
        if r.status_code not in (200, 201):
            raise SystemExit(f"publishing the tree answered {r.status_code}: {r.text[:500]}")

        def make_user(i: int) -> dict[str, Any]:
            email = f"eng-{i}-{secrets.token_hex(4)}@example.com"
            user = expect(
                http.post(
                    "/api/v1/users",
                    headers=admin,
                    json={
                        "email": email,
                        "role": "engineer",
                        "password": PASSWORD,
                        "display_name": f"Engineer {i}",
                    },
                ),
                201,
                "creating an engineer",
            )
            tokens = expect(
                http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}),
                200,
                "signing in an engineer",
            )
            return {"user_id": user["id"], "token": tokens["access_token"]}

        with ThreadPoolExecutor(threads) as pool:
            users = list(pool.map(make_user, range(engineers)))

            def make_session(i: int) -> str:
                partner = i ^ 1 if (i ^ 1) < engineers else None
                body: dict[str, Any] = {
                    "tree_id": BENCH_TREE["_id"],
                    "title": f"Bench session {i}",
                    "shared_with": [users[partner]["user_id"]] if partner is not None else [],
                }
                started = expect(
                    http.post("/api/v1/sessions", headers=bearer(users[i]["token"]), json=body),
                    201,
                    "starting a session",
                )
                sid: str = started["session_id"]
                return sid

            sids = list(pool.map(make_session, range(engineers)))
    databases: dict[str, str] = owner["me"]["sync"]["databases"]
    specs = []
    for i, user in enumerate(users):
        inst = instances[i % len(instances)]
        partner = i ^ 1 if (i ^ 1) < engineers else None
        specs.append(
            {
                "index": first_index + i,
                "partner": None if partner is None else first_index + partner,
                "user_id": user["user_id"],
                "token": user["token"],
                "sid": sids[i],
                "partner_user_id": None if partner is None else users[partner]["user_id"],
                "api": inst.url,
                "device_id": f"bench-{first_index + i}",
                "dbs": {db: url.replace(base, inst.url, 1) for db, url in databases.items()},
            }
        )
    return specs


# --- the run -------------------------------------------------------------------------------


@dataclass
class LoadOptions:
    duration: float = 60.0
    period: float = 2.0
    rest_share: float = 0.2
    exports_per_minute: float = 30.0
    processes: int = 4
    closed_loop: bool = False
    writers: int = 16
    feeds: bool = True
    dbs: tuple[str, ...] = ("trees", "sessions", "clients")
    drain: float = 30.0
    warmup_timeout: float = 300.0
    generator_nice: int = 0
    drop_at: float | None = None
    session_events: int = 0


class Sampler:
    """Peak RSS and descriptors of the Branchline instances, sampled every second."""

    def __init__(self, servers: Sequence[Server]) -> None:
        self.servers = servers
        self.peak_rss = 0.0
        self.peak_fds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        self.peak_rss = max(self.peak_rss, sum(s.rss_mb() for s in self.servers))
        self.peak_fds = max(self.peak_fds, sum(s.fds() for s in self.servers))

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def __enter__(self) -> Self:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def read_json_line(stream: IO[str], what: str) -> dict[str, Any]:
    while True:
        line = stream.readline()
        if not line:
            raise SystemExit(f"{what} ended without an answer")
        line = line.strip()
        if line.startswith("{"):
            msg: dict[str, Any] = json.loads(line)
            return msg


def split(specs: Sequence[dict[str, Any]], parts: int) -> list[list[dict[str, Any]]]:
    """Pairs stay together (their device-to-device time is measured on one clock)."""
    pairs: list[list[dict[str, Any]]] = []
    for spec in specs:
        if pairs and spec["partner"] is not None and pairs[-1][0]["index"] == spec["partner"]:
            pairs[-1].append(spec)
        else:
            pairs.append([spec])
    out: list[list[dict[str, Any]]] = [[] for _ in range(min(parts, len(pairs)))]
    for i, pair in enumerate(pairs):
        out[i % len(out)].extend(pair)
    return out


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    ordered = sorted(values)

    def rank(p: float) -> float:  # nearest rank
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "n": len(ordered)}


def run_load(
    cl: Cluster, specs: Sequence[dict[str, Any]], opts: LoadOptions, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Play the team against the cluster; answers the figures (see the module docstring)."""
    cfg = {
        "duration_ms": opts.duration * 1000,
        "period_ms": opts.period * 1000,
        "rest_share": opts.rest_share,
        "closed_loop": opts.closed_loop,
        "feeds": opts.feeds,
        "dbs": list(opts.dbs),
        "drain_ms": opts.drain * 1000,
        "warmup_timeout_ms": opts.warmup_timeout * 1000,
        "drop_at_ms": None if opts.drop_at is None else opts.drop_at * 1000,
        "session_events": opts.session_events,
        "tree_id": BENCH_TREE["_id"],
    }
    groups = split(specs, opts.processes)
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    scratch = tempfile.TemporaryDirectory(prefix="bl-team-gen-")
    # The engineers replicate with the app's own options (pwa/src/data/replication.ts),
    # never a copy of them.
    replication = ROOT / "pwa/src/data/replication.ts"
    cfg["replication"] = str(bundle_for_require(replication, Path(scratch.name) / "replication.cjs"))
    workers: list[subprocess.Popen[str]] = []
    for i, group in enumerate(groups):
        worker_cfg = {
            **cfg,
            "engineers": group,
            "exports_per_minute": 0 if opts.closed_loop else opts.exports_per_minute / len(groups),
            "writers": max(1, opts.writers // len(groups) + (i < opts.writers % len(groups))),
        }
        workers.append(
            subprocess.Popen(
                ["node", "--max-old-space-size=2048", str(WORKER), json.dumps(worker_cfg)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                preexec_fn=(lambda: os.nice(opts.generator_nice)) if opts.generator_nice else None,
            )
        )
    try:
        t0 = time.monotonic()
        ready = [read_json_line(w.stdout, "a load generator") for w in workers if w.stdout]
        log(
            f"  warm-up: {len(specs)} engineers replicating in {time.monotonic() - t0:.1f} s "
            f"({len(workers)} Node processes)"
        )
        servers = cl.instances
        with Sampler(servers) as sampler:
            cpu0 = [s.cpu_seconds() for s in [*servers, *cl.others]]
            load0 = os.getloadavg()
            for w in workers:
                assert w.stdin is not None
                w.stdin.write("go\n")
                w.stdin.flush()
            time.sleep(opts.duration)  # the workers time the run themselves; this only reads /proc after it
            cpu1 = [s.cpu_seconds() for s in [*servers, *cl.others]]
            rss_end = sum(s.rss_mb() for s in servers)
            fds_end = sum(s.fds() for s in servers)
            load = os.getloadavg()
            results = [read_json_line(w.stdout, "a load generator") for w in workers if w.stdout]
        for w in workers:
            w.wait(30)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(5)
        scratch.cleanup()
    merged: dict[str, Any] = {"errors": {}, "error_samples": [], "warmup_errors": {}}
    for key in ("rest_ms", "d2s_ms", "d2d_ms", "export_ms", "closed_ms", "start_ms", "drop_recovery_ms"):
        merged[key] = [v for r in results for v in r[key]]
    for key in (
        "written_sync",
        "written_rest",
        "acked",
        "acked_in_window",
        "exports",
        "lost",
        "undelivered",
        "resent",
        "cpu_run_s",
        "cpu_total_s",
        "drop_sockets",
        "drop_unrecovered",
    ):
        merged[key] = sum(r[key] for r in results)
    for r in results:
        for kind in ("errors", "warmup_errors"):
            for k, v in r.get(kind, {}).items():
                merged[kind][k] = merged[kind].get(k, 0) + v
        merged["error_samples"].extend(r["error_samples"])
    n_inst = len(servers)
    return {
        "engineers": len(specs),
        "duration_s": opts.duration,
        "closed_loop": opts.closed_loop,
        "warmup_s": max(r["warmup_s"] for r in ready),
        "offered_per_s": (merged["written_sync"] + merged["written_rest"]) / opts.duration,
        "events_per_s": merged["acked_in_window"] / opts.duration,
        "rest": percentiles(merged["closed_ms"] if opts.closed_loop else merged["rest_ms"]),
        "d2s": percentiles(merged["d2s_ms"]),
        "d2d": percentiles(merged["d2d_ms"]),
        "export": percentiles(merged["export_ms"]),
        "session_events": opts.session_events,
        "starts": percentiles(merged["start_ms"]),
        "drop": None
        if opts.drop_at is None
        else {
            "at_s": opts.drop_at,
            "sockets": merged["drop_sockets"],
            "recovery": percentiles(merged["drop_recovery_ms"]),
            "max_ms": max(merged["drop_recovery_ms"], default=None),
            "unrecovered": merged["drop_unrecovered"],
        },
        "errors": sum(merged["errors"].values()),
        "error_kinds": merged["errors"],
        "error_samples": merged["error_samples"][:8],
        "warmup_errors": merged["warmup_errors"],
        "lost": merged["lost"],
        "undelivered": merged["undelivered"],
        "resent": merged["resent"],
        "server_cpu_s": sum(cpu1[:n_inst]) - sum(cpu0[:n_inst]),
        "others_cpu_s": {
            s.name: b - a for s, a, b in zip(cl.others, cpu0[n_inst:], cpu1[n_inst:], strict=True)
        },
        "rss_mb": rss_end,
        "peak_rss_mb": sampler.peak_rss,
        "fds": fds_end,
        "peak_fds": sampler.peak_fds,
        "generator_cpu_s": merged["cpu_run_s"],
        "generator_processes": len(workers),
        # The worst process's figures: percentiles of different processes do not add up.
        "generator_loop_delay_ms": {
            k: max(r["loop_delay_ms"][k] for r in results) for k in ("p50", "p99", "max")
        },
        "loadavg_start": [round(x, 2) for x in load0],
        "loadavg": [round(x, 2) for x in load],
    }


def ms(p: dict[str, float | None]) -> str:
    if not p["n"]:
        return "      -      (none)"
    return f"{p['p50']:6.0f} {p['p95']:6.0f} {p['p99']:6.0f} ms (n={p['n']})"


def print_figures(f: dict[str, Any], out: Callable[[str], None] = print) -> None:
    window = f["duration_s"]
    out(
        f"engineers            {f['engineers']} "
        f"({'closed loop' if f['closed_loop'] else 'one event every period'}), "
        f"{window:.0f} s window, warm-up {f['warmup_s']:.1f} s"
    )
    out(
        f"events/s             {f['events_per_s']:.1f} acknowledged in the window, "
        f"{f['offered_per_s']:.1f} offered"
    )
    out(f"REST write           p50/p95/p99 {ms(f['rest'])}")
    if f["session_events"]:
        out(
            f"sessions started     p50/p95/p99 {ms(f['starts'])}: a new one after each "
            f"{f['session_events']} events on a session"
        )
    if not f["closed_loop"]:
        out(f"device to server     p50/p95/p99 {ms(f['d2s'])}")
        out(f"device to device     p50/p95/p99 {ms(f['d2d'])}")
        out(f"export (markdown)    p50/p95/p99 {ms(f['export'])}")
    drop = f.get("drop")
    if drop:
        out(
            f"connections dropped  {drop['sockets']} at once, {drop['at_s']:.0f} s into the window; "
            f"never back: {drop['unrecovered']} engineers"
        )
        out(f"  back to the server p50/p95/p99 {ms(drop['recovery'])}, max {drop['max_ms'] or 0:.0f} ms")
    out(
        f"errors               {f['errors']} {json.dumps(f['error_kinds']) + ' ' if f['errors'] else ''}"
        f"(lost events: {f['lost']}; requests resent after a reset idle connection: {f['resent']})"
    )
    for sample in f["error_samples"]:
        out(f"  e.g. {sample}")
    if f["warmup_errors"]:
        out(f"warm-up problems     {json.dumps(f['warmup_errors'])}")
    out(
        f"server CPU           {f['server_cpu_s']:.1f} s in the {window:.0f} s window "
        f"({f['server_cpu_s'] / window * 100:.0f}% of one core)"
    )
    for name, cpu in f["others_cpu_s"].items():
        out(f"{name:20s} CPU {cpu:.1f} s in the window")
    out(f"server RSS           {f['rss_mb']:.0f} MB at the end, peak {f['peak_rss_mb']:.0f} MB")
    out(f"open descriptors     {f['fds']} at the end, peak {f['peak_fds']}")
    out(
        f"load generator CPU   {f['generator_cpu_s']:.1f} s in the window "
        f"({f['generator_processes']} Node processes, "
        f"{f['generator_cpu_s'] / window * 100:.0f}% of one core)"
    )
    delay = f["generator_loop_delay_ms"]
    out(
        f"generator loop delay p50/p99/max {delay['p50']:.0f} {delay['p99']:.0f} {delay['max']:.0f} ms "
        "(the slowest Node process: how late it saw replies)"
    )
    out(
        f"load average         {' '.join(map(str, f['loadavg_start']))} at the start, "
        f"{' '.join(map(str, f['loadavg']))} at the end"
    )


def print_table(rows: Sequence[dict[str, Any]], out: Callable[[str], None] = print) -> None:
    def p(x: dict[str, float | None], k: str) -> str:
        v = x[k]
        return "-" if v is None else f"{v:.0f}"

    out(
        "engineers  ev/s  REST p50/p99 ms  "
        "dev->srv p50/p99  dev->dev p50/p99  errors  srv CPU  RSS MB  fds  gen CPU  load"
    )
    for f in rows:
        out(
            f"{f['engineers']:9d} {f['events_per_s']:5.0f} "
            f"{p(f['rest'], 'p50'):>8s}/{p(f['rest'], 'p99'):<7s}"
            f" {p(f['d2s'], 'p50'):>8s}/{p(f['d2s'], 'p99'):<8s} "
            f"{p(f['d2d'], 'p50'):>8s}/{p(f['d2d'], 'p99'):<8s}"
            f" {f['errors']:6d} {f['server_cpu_s']:7.1f}s {f['peak_rss_mb']:7.0f} {f['peak_fds']:5d}"
            f" {f['generator_cpu_s']:6.1f}s {f['loadavg'][0]:5.2f}"
        )


def parse_sizes(text: str) -> list[int]:
    sizes = [int(x) for x in text.split(",") if x.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--engineers takes sizes like 200 or 50,200,500")
    return sizes


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per size (default 60)")
    parser.add_argument("--processes", type=int, default=4, help="Node processes of the load generator")
    parser.add_argument(
        "--generator-nice",
        type=int,
        default=0,
        help="niceness of the generator's Node processes: how the server fares when they yield the CPU to it",
    )
    parser.add_argument("--rest-share", type=float, default=0.2, help="share of events posted over REST")
    parser.add_argument(
        "--exports-per-minute", type=float, default=30.0, help="Markdown exports, the whole team"
    )
    parser.add_argument("--closed-loop", action="store_true", help="REST writes back to back instead")
    parser.add_argument("--writers", type=int, default=16, help="concurrent writers of --closed-loop")
    parser.add_argument(
        "--session-events",
        type=int,
        default=0,
        help="--closed-loop: each engineer starts a new session after this many events on one "
        "(0: one session each, growing by hundreds of events a minute)",
    )
    parser.add_argument("--no-feeds", action="store_true", help="engineers keep no replication open")
    parser.add_argument("--dbs", default="trees,sessions,clients", help="databases each engineer replicates")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for the last events")
    parser.add_argument(
        "--drop-at",
        type=float,
        default=None,
        help="seconds into the window when every device's connections close at once (a network "
        "blip); prints how long until each engineer's next write reached the server",
    )


def load_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> LoadOptions:
    # A drop at or past the end would land in the drain, and every engineer would then count
    # as never back.
    if args.drop_at is not None and not 0 <= args.drop_at < args.duration:
        parser.error(f"--drop-at must be at least 0 and under --duration ({args.duration:g} s)")
    if args.session_events < 0:
        parser.error("--session-events takes a number of events, 0 for one session per engineer")
    if args.session_events and not args.closed_loop:
        parser.error("--session-events is for --closed-loop (one event every period grows no long session)")
    return LoadOptions(
        duration=args.duration,
        rest_share=args.rest_share,
        exports_per_minute=args.exports_per_minute,
        processes=args.processes,
        closed_loop=args.closed_loop,
        writers=args.writers,
        feeds=not args.no_feeds,
        dbs=tuple(d for d in args.dbs.split(",") if d),
        drain=args.drain,
        generator_nice=args.generator_nice,
        drop_at=args.drop_at,
        session_events=args.session_events,
    )


def check_node() -> None:
    if not (NODE_MODULES / "pouchdb").exists() or not (NODE_MODULES / "pouchdb-adapter-memory").exists():
        raise SystemExit("run `npm ci --prefix tests/node` first (the generator uses its pouchdb)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--engineers", type=parse_sizes, default=[200], help="sizes, e.g. 50,200,500")
    parser.add_argument("--backend", choices=("embedded", "couchdb"), default="embedded")
    parser.add_argument(
        "--server-processes",
        type=int,
        default=1,
        help="embedded: server processes on the data folder (BRANCHLINE_PROCESSES, uvicorn --workers)",
    )
    parser.add_argument("--json", action="store_true", help="also print each size's figures as one JSON line")
    add_load_arguments(parser)
    args = parser.parse_args(argv)
    check_node()
    opts = load_options(parser, args)
    rows = []
    for size in args.engineers:
        with (
            tempfile.TemporaryDirectory(prefix="bl-team-") as tmp,
            cluster(args.backend, Path(tmp), args.server_processes) as cl,
        ):
            print(
                f"== {size} engineers, {args.backend} backend ({len(cl.instances)} instance(s), "
                f"{args.server_processes} process(es) each)",
                flush=True,
            )
            t0 = time.monotonic()
            specs = setup_team(cl.instances, size)
            print(
                f"  set-up: tenant, {size} engineers signed in, {size} shared sessions "
                f"in {time.monotonic() - t0:.1f} s",
                flush=True,
            )
            figures = run_load(cl, specs, opts, log=lambda s: print(s, flush=True))
        print_figures(figures)
        if args.json:
            print(json.dumps(figures))
        rows.append(figures)
        print(flush=True)
    if len(rows) > 1:
        print_table(rows)
    return 0 if all(succeeded(f) for f in rows) else 1


def succeeded(f: dict[str, Any]) -> bool:
    """No errors; with `--drop-at`, the replications paused by the drop are expected, and what
    counts is that every engineer came back and nothing was lost or left on a device."""
    drop = f.get("drop")
    if drop is None:
        return bool(f["errors"] == 0)
    return bool(drop["unrecovered"] == 0 and f["lost"] == 0 and f["undelivered"] == 0)


if __name__ == "__main__":
    sys.exit(main())
