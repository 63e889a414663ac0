"""The `branchline` command as an operator uses it: first run, settings, password reset."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port, wait_until

BRANCHLINE = [sys.executable, "-m", "api.cli"]
LOGIN_LINE = re.compile(r"^\s+(owner|author|engineer)\s+(\S+@\S+)\s+(\S+)\s*$", re.M)


def _env(data: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHLINE_")}
    return {**env, "BRANCHLINE_DATA_DIR": str(data), "BRANCHLINE_LOG_LEVEL": "warning", **extra}


class Serve:
    def __init__(self, data: Path, *args: str, **env) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / f"serve-{self.port}.log"
        data.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [*BRANCHLINE, "serve", "--port", str(self.port), *args],
            cwd=ROOT,
            env=_env(data, **env),
            stdout=open(self.log, "w"),
            stderr=subprocess.STDOUT,
        )

    def __enter__(self):
        wait_until(
            lambda: httpx.get(self.url + "/healthz", timeout=1).status_code == 200,
            timeout=90,
            message="branchline serve",
        )
        return self

    def output(self) -> str:
        return self.log.read_text()

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(15)


def _first_run_file(data: Path) -> str:
    return wait_until(
        lambda: (data / "first-run-logins.txt").read_text(), message="the first-run logins file"
    )


def test_first_run_keeps_passwords_out_of_a_log_and_gives_working_logins_once(tmp_path):
    data = tmp_path / "data"
    with Serve(data) as srv:  # output to a file, as a service manager or a redirect keeps it
        out = wait_until(
            lambda: "first-run-logins.txt" in srv.output() and srv.output(), message="the notice"
        )
        assert srv.url in out
        saved = _first_run_file(data)
        logins = LOGIN_LINE.findall(saved)
        assert [role for role, _, _ in logins] == ["owner", "author", "engineer"]
        passwords = {pw for _, _, pw in logins}
        assert len(passwords) == 3  # random, never a fixed default
        assert not LOGIN_LINE.findall(out) and not any(pw in out for pw in passwords)
        assert oct((data / "first-run-logins.txt").stat().st_mode)[-3:] == "600"
        for role, email, pw in logins:
            r = httpx.post(srv.url + "/api/v1/auth/login", json={"email": email, "password": pw})
            assert r.status_code == 200, r.text
            me = httpx.get(
                srv.url + "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
            ).json()
            assert me["role"] == role and me["tenant"]["name"] == "Demo MSP"
        assert (data / "secret.key").exists() and oct((data / "secret.key").stat().st_mode)[-3:] == "600"
    (data / "first-run-logins.txt").unlink()  # read, then deleted, as the notice asks
    # A second start on the same folder creates nothing and prints or saves no password.
    with Serve(data) as srv:
        wait_until(lambda: "running at" in srv.output(), message="banner")
        assert not LOGIN_LINE.findall(srv.output())
        assert not (data / "first-run-logins.txt").exists()
        r = httpx.post(srv.url + "/api/v1/auth/login", json={"email": logins[0][1], "password": logins[0][2]})
        assert r.status_code == 200


def test_first_run_in_a_terminal_prints_the_logins_there(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*BRANCHLINE, "serve", "--port", str(port)],
        cwd=ROOT,
        env=_env(data),
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    screen = bytearray()

    def read_screen() -> str:
        while select.select([leader], [], [], 0)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen.extend(chunk)
        return screen.decode(errors="replace")

    try:
        out = wait_until(
            lambda: len(LOGIN_LINE.findall(read_screen().replace("\r", ""))) == 3 and screen,
            timeout=90,
            message="logins on the terminal",
        )
        logins = LOGIN_LINE.findall(out.decode().replace("\r", ""))
        assert [role for role, _, _ in logins] == ["owner", "author", "engineer"]
        assert not (data / "first-run-logins.txt").exists()
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200,
            timeout=60,
            message="branchline serve",
        )
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"email": logins[0][1], "password": logins[0][2]},
        )
        assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(15)
        os.close(leader)


def test_two_demo_runs_get_different_passwords(tmp_path):
    outs = []
    for name in ("a", "b"):
        with Serve(tmp_path / name):
            outs.append(_first_run_file(tmp_path / name))
    assert {pw for *_, pw in LOGIN_LINE.findall(outs[0])}.isdisjoint(
        {pw for *_, pw in LOGIN_LINE.findall(outs[1])}
    )


def test_production_refuses_to_start_without_a_secret(tmp_path):
    proc = subprocess.run(
        [*BRANCHLINE, "serve", "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(tmp_path, BRANCHLINE_MODE="production"),
    )
    assert proc.returncode == 2
    assert "BRANCHLINE_SECRET_KEY" in proc.stderr and "secrets.token_urlsafe" in proc.stderr
    proc = subprocess.run(
        [*BRANCHLINE, "serve", "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(tmp_path, BRANCHLINE_MODE="production", BRANCHLINE_SECRET_KEY="changeme"),
    )
    assert proc.returncode == 2 and "too weak" in proc.stderr
    assert not (tmp_path / "secret.key").exists()


def test_reset_password_and_user_add(tmp_path):
    data = tmp_path / "data"
    env = _env(data)
    proc = subprocess.run(
        [
            *BRANCHLINE,
            "tenant",
            "create",
            "Acme IT",
            "--owner-email",
            "boss@acme.example",
            "--no-starter-library",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    tenant_id = re.search(r"\(id (\w+)\)", proc.stdout).group(1)
    proc = subprocess.run(
        [
            *BRANCHLINE,
            "user",
            "add",
            "--tenant",
            tenant_id,
            "--email",
            "tech@acme.example",
            "--role",
            "engineer",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    tech_pw = proc.stdout.rsplit(": ", 1)[1].strip()
    proc = subprocess.run(
        [*BRANCHLINE, "user", "reset-password", "BOSS@acme.example"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    boss_pw = proc.stdout.rsplit(": ", 1)[1].strip()
    proc = subprocess.run(
        [*BRANCHLINE, "user", "reset-password", "nobody@acme.example"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1 and "no user" in proc.stderr
    with Serve(data, "--no-demo") as srv:
        for email, pw in (("boss@acme.example", boss_pw), ("tech@acme.example", tech_pw)):
            assert (
                httpx.post(srv.url + "/api/v1/auth/login", json={"email": email, "password": pw}).status_code
                == 200
            )


def test_https_with_a_certificate(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    srv = Serve(tmp_path / "data", "--no-demo", "--certfile", str(cert), "--keyfile", str(key))
    try:
        url = f"https://127.0.0.1:{srv.port}"
        wait_until(
            lambda: httpx.get(url + "/healthz", verify=str(cert), timeout=1).status_code == 200,
            timeout=30,
            message="https server",
        )
        assert f"running at {url}" in srv.output()
        # Under HTTPS browsers are told to keep to it, on pages, the API and sync alike.
        for path in ("/", "/api/v1/me", "/sync/abcdef1234/"):
            r = httpx.get(url + path, verify=str(cert), timeout=10)
            assert r.headers.get("strict-transport-security", "").startswith("max-age="), (path, r.headers)
    finally:
        srv.proc.terminate()
        srv.proc.wait(15)


def test_admin_commands_refuse_an_empty_data_folder_instead_of_creating_one(tmp_path):
    """`branchline user reset-password` pointed at the wrong folder used to create a new, empty
    install there and answer "no user"."""
    empty = tmp_path / "nothing-here"
    for cmd in (
        ["user", "reset-password", "boss@acme.example"],
        ["seed"],
        ["backup"],
        ["tenant", "quota", "acme", "--storage", "10GiB"],
    ):
        proc = subprocess.run(
            [*BRANCHLINE, *cmd], cwd=ROOT, capture_output=True, text=True, env=_env(empty), timeout=60
        )
        assert proc.returncode == 2, (cmd, proc.stdout, proc.stderr)
        assert f"no Branchline data in {empty}" in proc.stderr and "./branchline" in proc.stderr
    assert not empty.exists()


def test_the_checkout_wrapper_uses_the_data_folder_of_make_run(tmp_path):
    """`./branchline ...` from the checkout reaches the install `make run` made (./data unless
    BRANCHLINE_DATA_DIR says otherwise): the README's password reset works as written."""
    data = tmp_path / "data"
    env = _env(data)
    proc = subprocess.run(
        [
            *BRANCHLINE,
            "tenant",
            "create",
            "Acme IT",
            "--owner-email",
            "boss@acme.example",
            "--no-starter-library",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    wrapper_env = {**env, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(ROOT / "branchline"), "user", "reset-password", "boss@acme.example"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=wrapper_env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "New password for boss@acme.example" in proc.stdout


def test_a_taken_port_is_reported_alone_with_how_to_pick_another(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [*BRANCHLINE, "serve", "--port", str(port), "--no-demo"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=_env(tmp_path / "data"),
            timeout=60,
        )
    assert proc.returncode == 2
    assert "running at" not in proc.stdout
    assert f"port {port} on 127.0.0.1 is already in use" in proc.stderr
    assert f"--port {port + 1}" in proc.stderr


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _is_server_process(pid: int) -> bool:
    try:
        return b"multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_serve_runs_several_processes_that_share_one_data_folder(tmp_path):
    data = tmp_path / "data"
    with Serve(data, BRANCHLINE_PROCESSES="2") as srv:
        out = wait_until(lambda: "first-run-logins.txt" in srv.output() and srv.output(), message="banner")
        assert "2 processes" in out
        workers = wait_until(
            lambda: (
                [p for p in _children(srv.proc.pid) if _is_server_process(p)]
                if len([p for p in _children(srv.proc.pid) if _is_server_process(p)]) == 2
                else None
            ),
            message="two server processes",
        )
        wait_until(lambda: len(list((data / "dbs" / ".peers").glob("*.sock"))) == 2, message="mailboxes")
        _, email, password = LOGIN_LINE.findall(_first_run_file(data))[0]
        # Fresh connections each time: the kernel spreads them over both processes, and a
        # token signed by either is good in both.
        token = httpx.post(srv.url + "/api/v1/auth/login", json={"email": email, "password": password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for _ in range(20):
            assert httpx.get(srv.url + "/api/v1/trees", headers=headers).status_code == 200
    assert all(not Path(f"/proc/{pid}").exists() or not _is_server_process(pid) for pid in workers)
    assert not list((data / "dbs" / ".peers").glob("*.sock"))  # each process left its mailbox
