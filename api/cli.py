"""The `branchline` command line."""

from __future__ import annotations

import argparse
import os
import sys

from sync.errors import BranchlineError
from sync.private_files import restrict_umask

from .settings import Settings, SettingsError


def _ctx(settings: Settings):
    from .core.context import AppContext  # noqa: PLC0415

    ctx = AppContext.create(settings)
    from .features import install_hooks  # noqa: PLC0415

    install_hooks(ctx)
    return ctx


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn  # noqa: PLC0415

    from .app import create_app  # noqa: PLC0415
    from .firstrun import first_run, format_first_run, save_first_run  # noqa: PLC0415

    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    if bool(args.certfile) != bool(args.keyfile):
        print(
            "error: --certfile and --keyfile go together (the certificate and its private key).",
            file=sys.stderr,
        )
        return 2
    scheme = "https" if args.certfile else "http"
    if _port_taken(settings.host, settings.port):
        print(
            f"error: port {settings.port} on {settings.host} is already in use (another Branchline, or "
            f'another program). Pick another one: make run ARGS="--port {settings.port + 1}" '
            f"(or branchline serve --port {settings.port + 1}).",
            file=sys.stderr,
        )
        return 2
    ctx = _ctx(settings)
    url = settings.resolved_public_url(scheme)
    banner = ""
    if settings.mode == "development" and not args.no_demo:
        result = first_run(ctx)
        if result:
            banner = format_first_run(result, url)
    several = settings.processes > 1 and settings.backend == "embedded"
    if several:
        # Each process makes its own app (uvicorn's workers import the factory); this one
        # only prepared the data folder and leaves the other processes' mailboxes.
        ctx.store.close()
        getattr(ctx.store, "close_peers", lambda: None)()
        # The processes read their settings from the environment: what the command line
        # changed must reach them (the address is in the links the server writes).
        os.environ["BRANCHLINE_HOST"] = settings.host
        os.environ["BRANCHLINE_PORT"] = str(settings.port)
        app: object = "api.app:create_app"
    else:
        app = create_app(settings, ctx=ctx)
    processes = f", {settings.processes} processes" if several else ""
    print(f"\n  Branchline is running at {url}  (data: {settings.data_dir}{processes})", flush=True)
    if banner:
        if sys.stdout.isatty():
            print(banner, flush=True)
        else:
            path = save_first_run(banner, settings.data_dir)
            print(
                f"\n  First run: created the demo tenant. Its passwords are not printed here, as this output "
                f"is not a terminal and may be kept in a log;\n  they are in {path} (readable by this "
                "user only). Read it, then delete it.\n",
                flush=True,
            )
    from .core import event_loop  # noqa: PLC0415
    from .core.http_protocol import HttpProtocol  # noqa: PLC0415

    uvicorn.run(
        app,  # type: ignore[arg-type]
        factory=several,
        workers=settings.processes if several else None,
        http=HttpProtocol,
        # uvloop, taking up to 16 waiting connections a turn (libuv takes one per turn).
        loop=event_loop.SPEC,
        # Devices keep their connections for minutes (browsers about five) and reuse them; a
        # server that drops them after uvicorn's default 5 idle seconds makes a request now and
        # then meet a connection being closed (a TLS handshake again, or an error), and
        # makes phones on a poor signal open new ones. 75 s, as common proxies use.
        timeout_keep_alive=KEEP_ALIVE_S,
        host=settings.host,
        port=settings.port,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        log_level=settings.log_level,
        timeout_graceful_shutdown=5,
    )
    return 0


KEEP_ALIVE_S = 75


def cmd_user_add(args, settings: Settings) -> int:
    from .auth.service import create_user  # noqa: PLC0415
    from .users.service import generate_password  # noqa: PLC0415

    ctx = _ctx(settings)
    password = generate_password()
    user = create_user(
        ctx, args.tenant, email=args.email, password=password, display_name=args.name or "", role=args.role
    )
    print(
        f"Created {user['role']} {user['email']} in tenant {args.tenant}. Password (shown once): {password}"
    )
    return 0


def cmd_user_reset(args, settings: Settings) -> int:
    from .audit.service import record  # noqa: PLC0415
    from .users import repository as users  # noqa: PLC0415
    from .users.service import generate_password, set_password  # noqa: PLC0415

    ctx = _ctx(settings)
    user = users.find_by_email(ctx.system, args.email)
    if user is None:
        print(f"error: no user with the e-mail {args.email}.", file=sys.stderr)
        return 1
    password = generate_password()
    set_password(ctx, user, password)
    record(
        ctx,
        None,
        "user.password_reset",
        "user",
        user["user_id"],
        tenant_id=user["tenant_id"],
        details={"by": "branchline user reset-password"},
    )
    print(f"New password for {user['email']} (shown once; every existing sign-in was ended): {password}")
    return 0


def cmd_domain_verify(args, settings: Settings) -> int:
    from sync.errors import BranchlineError  # noqa: PLC0415

    from .brand.service import verify_domain  # noqa: PLC0415

    ctx = _ctx(settings)
    try:
        tenant_id = verify_domain(ctx.system, args.domain, args.tenant)
    except BranchlineError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    print(f"{args.domain} now serves the brand of workspace {tenant_id}.")
    return 0


def cmd_tenant_create(args, settings: Settings) -> int:
    from .auth.service import create_tenant  # noqa: PLC0415
    from .users.service import generate_password  # noqa: PLC0415

    ctx = _ctx(settings)
    password = generate_password()
    tenant, owner = create_tenant(
        ctx,
        tenant_name=args.name,
        email=args.owner_email,
        password=password,
        display_name=args.owner_name or "",
        starter_library=not args.no_starter_library,
    )
    print(
        f"Created tenant {tenant['name']!r} (id {tenant['tenant_id']}).\n"
        f"Owner {owner['email']} password (shown once): {password}"
    )
    return 0


def cmd_tenant_quota(args, settings: Settings) -> int:
    import getpass  # noqa: PLC0415

    from .audit.service import record  # noqa: PLC0415
    from .usage import repository as quotas  # noqa: PLC0415
    from .usage.service import describe_quota, resolve_tenant  # noqa: PLC0415
    from .usage.sizes import format_size, parse_size  # noqa: PLC0415

    ctx = _ctx(settings)
    tenant_id = resolve_tenant(ctx, args.tenant)
    before = quotas.storage_override(ctx.system, tenant_id)

    def audit_change(after: int | None, by: str) -> None:
        # The team sees who changed its quota and when, as with a password reset on the server.
        details = {"storage_bytes": {"from": before, "to": after}, "by": by}
        record(ctx, None, "tenant.quota_changed", "tenant", tenant_id, tenant_id=tenant_id, details=details)

    if args.storage is not None:
        try:
            size = parse_size(args.storage)
        except ValueError as exc:
            print(f"error: --storage {exc}", file=sys.stderr)
            return 2
        quotas.set_override(ctx.system, tenant_id, size, f"branchline tenant quota ({getpass.getuser()})")
        audit_change(size, "branchline tenant quota")
        what = "no storage quota" if size == 0 else f"a storage quota of {format_size(size)} ({size} bytes)"
        print(
            f"Workspace {tenant_id} now has {what}. Running servers apply it within "
            f"{settings.tenant_quota_cache_seconds:g} s (BRANCHLINE_TENANT_QUOTA_CACHE_SECONDS)."
        )
    elif args.reset:
        removed = quotas.clear_override(ctx.system, tenant_id)
        if removed:
            audit_change(None, "branchline tenant quota --reset")
        print(
            f"Workspace {tenant_id} follows the default quota again (BRANCHLINE_TENANT_QUOTA_BYTES)."
            if removed
            else f"Workspace {tenant_id} had no quota of its own; it follows the default."
        )
    print(describe_quota(ctx, tenant_id))
    return 0


def cmd_tenant_import(args, settings: Settings) -> int:
    from pathlib import Path  # noqa: PLC0415

    from .backups.archive import import_archive  # noqa: PLC0415

    ctx = _ctx(settings)
    report = import_archive(ctx, Path(args.archive), args.slug)
    counts = ", ".join(f"{name} {n}" for name, n in sorted(report.databases.items()))
    print(
        f"Imported workspace {report.name!r} as {report.tenant_id}: revisions per database: {counts}; "
        f"{report.attachments} attachments, {report.users} users."
    )
    for email, password in report.owners:
        print(f"Owner {email} new password (shown once): {password}")
    print(
        "Other users have no password yet: an owner resets theirs in Team admin "
        "(or run branchline user reset-password EMAIL). Set up webhooks, PSA/RMM connectors, "
        "single sign-on and API keys again: they do not travel in an archive."
    )
    return 0


def cmd_seed(args, settings: Settings) -> int:
    from .core.docs import by_prefix  # noqa: PLC0415
    from .starter.service import load_starter_library  # noqa: PLC0415

    ctx = _ctx(settings)
    tenant_ids = [args.tenant] if args.tenant else [d["tenant_id"] for d in by_prefix(ctx.system, "tenant:")]
    for tid in tenant_ids:
        report = load_starter_library(ctx, tid)
        summary = ", ".join(f"{len(v)} {k}" for k, v in report.items() if v) or "nothing to do"
        print(f"tenant {tid}: {summary}")
        for tree_id in report["offered"]:
            print(
                f"  {tree_id}: edited by the tenant, left alone; "
                "the new starter version is offered as an update"
            )
    return 0


def cmd_migrate(args, settings: Settings) -> int:
    from .core.docs import by_prefix  # noqa: PLC0415
    from .trees.service import migrate_stored  # noqa: PLC0415

    ctx = _ctx(settings)
    tenant_ids = [args.tenant] if args.tenant else [d["tenant_id"] for d in by_prefix(ctx.system, "tenant:")]
    for tid in tenant_ids:
        counts = migrate_stored(ctx, tid, dry_run=args.dry_run)
        verb = "would migrate" if args.dry_run else "migrated"
        print(f"tenant {tid}: checked {counts['checked']} tree documents, {verb} {counts['migrated']}")
    return 0


def cmd_backup(args, settings: Settings) -> int:
    from .backups.service import apply_retention, backup_embedded  # noqa: PLC0415

    if settings.backend != "embedded":
        print(
            "error: `branchline backup` snapshots the embedded backend. On CouchDB, back up with "
            "CouchDB's replication to a second server (or Cloudant's backups).",
            file=sys.stderr,
        )
        return 2
    from pathlib import Path  # noqa: PLC0415

    dest = Path(args.dest) if args.dest else settings.resolved_backup_dir()
    report = backup_embedded(settings.data_dir, dest)
    print(f"Backup written to {report.path} ({len(report.databases)} databases).")
    for tenant, error in report.failed.items():
        print(f"error: tenant {tenant} was not backed up: {error}", file=sys.stderr)
    if args.keep:
        for gone in apply_retention(dest, args.keep):
            print(f"Removed old snapshot {gone}")
    return 1 if report.failed else 0


def cmd_restore(args, settings: Settings) -> int:
    from pathlib import Path  # noqa: PLC0415

    from .backups.service import restore_embedded  # noqa: PLC0415

    if settings.backend != "embedded":
        print("error: `branchline restore` restores the embedded backend.", file=sys.stderr)
        return 2
    manifest = restore_embedded(Path(args.snapshot), settings.data_dir)
    print(f"Restored {len(manifest['databases'])} databases from {args.snapshot} into {settings.data_dir}.")
    if manifest.get("failed"):
        print(
            f"warning: this snapshot lacks tenants that failed when it was taken: "
            f"{', '.join(sorted(manifest['failed']))}",
            file=sys.stderr,
        )
    return 0


def cmd_copy_to_couchdb(args, settings: Settings) -> int:
    from sync.couchdb import CouchStore  # noqa: PLC0415
    from sync.embedded import EmbeddedStore  # noqa: PLC0415

    from .backups.service import copy_store  # noqa: PLC0415

    if not settings.couchdb_url:
        print(
            "error: set BRANCHLINE_COUCHDB_URL (and _USER, _PASSWORD) to the CouchDB to copy into.",
            file=sys.stderr,
        )
        return 2
    source = EmbeddedStore(settings.data_dir)
    target = CouchStore(settings.couchdb_url, settings.couchdb_user, settings.couchdb_password)
    try:
        copied = copy_store(
            source, target, progress=lambda name, n: print(f"  {name}: {n} revisions", flush=True)
        )
    finally:
        source.close()
        target.close()
    print(
        f"Copied {len(copied)} databases from {settings.data_dir} to {settings.couchdb_url}. "
        "Start Branchline with BRANCHLINE_BACKEND=couchdb (and the same BRANCHLINE_SECRET_KEY)."
    )
    return 0


def cmd_audit_verify(args, settings: Settings) -> int:
    from .audit import instance  # noqa: PLC0415
    from .audit.service import audit_tenants, verify_db, verify_tenant  # noqa: PLC0415

    ctx = _ctx(settings)
    verdicts = []
    if not args.tenant:
        db = instance.open_db(ctx.store)
        if db is not None:
            verdicts.append(("instance", verify_db(db, ctx.secret)))
    if not args.instance:
        for tenant in [args.tenant] if args.tenant else audit_tenants(ctx.store):
            verdicts.append((tenant, verify_tenant(ctx.store, ctx.secret, tenant)))
    for name, verdict in verdicts:
        if verdict.ok:
            print(f"{name}: ok {verdict.entries} entries")
        else:
            print(f"{name}: BROKEN after {verdict.entries} good entries: {verdict.problem}")
    return 1 if any(not v.ok for _, v in verdicts) else 0


def cmd_audit_instance(args, settings: Settings) -> int:
    from itertools import islice  # noqa: PLC0415

    from .audit import instance  # noqa: PLC0415
    from .users.repository import normalize_email  # noqa: PLC0415

    ctx = _ctx(settings)
    email = normalize_email(args.email) if args.email is not None else None
    shown = 0
    for entry in islice(instance.entries(ctx.store, ctx.secret, email=email), args.limit):
        print(instance.line(entry))
        shown += 1
    if not shown:
        print("No entries." if email is None else f"No entries for {email}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="branchline", description="Branchline server and administration.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the server (HTTPS with --certfile and --keyfile)")
    s.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)")
    s.add_argument("--port", type=int, help="port (default 8000)")
    s.add_argument("--certfile", help="TLS certificate (PEM) to serve HTTPS")
    s.add_argument("--keyfile", help="TLS private key (PEM)")
    s.add_argument("--no-demo", action="store_true", help="skip creating the demo tenant on first run")
    s.set_defaults(func=cmd_serve)

    u = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    ua = u.add_parser("add", help="create a user and print their password once")
    ua.add_argument("--tenant", required=True, help="tenant id (see GET /api/v1/me)")
    ua.add_argument("--email", required=True)
    ua.add_argument("--role", default="engineer", choices=["owner", "admin", "author", "engineer", "viewer"])
    ua.add_argument("--name", help="display name")
    ua.set_defaults(func=cmd_user_add)
    ur = u.add_parser("reset-password", help="print a new password for a locked-out user")
    ur.add_argument("email")
    ur.set_defaults(func=cmd_user_reset)

    t = sub.add_parser("tenant", help="manage tenants").add_subparsers(dest="tenant_command", required=True)
    tc = t.add_parser("create", help="create a tenant and its owner")
    tc.add_argument("name")
    tc.add_argument("--owner-email", required=True)
    tc.add_argument("--owner-name")
    tc.add_argument("--no-starter-library", action="store_true")
    tc.set_defaults(func=cmd_tenant_create)
    tq = t.add_parser(
        "quota",
        help="show or set one workspace's storage quota (in place of BRANCHLINE_TENANT_QUOTA_BYTES)",
        description="Without --storage or --reset, shows the workspace's quota and what it uses. "
        "Sizes are binary, as the app shows them: 1 GB = 1 GiB = 1024^3 bytes.",
    )
    tq.add_argument("tenant", metavar="TENANT", help="the workspace's tenant id, or its single sign-on name")
    change = tq.add_mutually_exclusive_group()
    change.add_argument(
        "--storage", metavar="SIZE", help="e.g. 10GiB, 500MB, 1073741824; 'unlimited': no quota"
    )
    change.add_argument(
        "--reset", action="store_true", help="drop the workspace's own quota: the default applies"
    )
    change.add_argument("--show", action="store_true", help="only show the quota and usage (the default)")
    tq.set_defaults(func=cmd_tenant_quota)
    ti = t.add_parser(
        "import",
        help="recreate a workspace from its archive (Backups > Download this workspace's data) "
        "as a new workspace; works on either backend",
    )
    ti.add_argument("archive", help="the .zip archive")
    ti.add_argument(
        "--slug",
        required=True,
        help="the new workspace's id: 6 to 32 lower-case letters and digits, unused here",
    )
    ti.set_defaults(func=cmd_tenant_import)

    d = sub.add_parser("domain", help="custom domains (white-label)").add_subparsers(
        dest="domain_command", required=True
    )
    dv = d.add_parser(
        "verify", help="confirm a workspace's custom domain once it routes here with a certificate"
    )
    dv.add_argument("domain")
    dv.add_argument("--tenant", help="the workspace (tenant id) when several name the domain")
    dv.set_defaults(func=cmd_domain_verify)
    sd = sub.add_parser("seed", help="load or update the starter library (never overwrites a tenant's edits)")
    sd.add_argument("--tenant", help="one tenant id (default: every tenant)")
    sd.set_defaults(func=cmd_seed)

    mg = sub.add_parser("migrate", help="rewrite documents stored at an older schema_version")
    mg.add_argument("--tenant", help="one tenant id (default: every tenant)")
    mg.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    mg.set_defaults(func=cmd_migrate)

    b = sub.add_parser("backup", help="snapshot every database of the embedded backend (safe while serving)")
    b.add_argument("--dest", help="folder of snapshots (default BRANCHLINE_BACKUP_DIR or DATA_DIR/backups)")
    b.add_argument("--keep", type=int, help="then delete all but the newest KEEP snapshots")
    b.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", help="restore a snapshot into an empty data folder (BRANCHLINE_DATA_DIR)")
    r.add_argument("snapshot", help="a snapshot folder written by `branchline backup`")
    r.set_defaults(func=cmd_restore)
    cc = sub.add_parser(
        "copy-to-couchdb",
        help="copy every database of the embedded data folder into CouchDB "
        "(BRANCHLINE_COUCHDB_URL); safe to run again",
    )
    cc.set_defaults(func=cmd_copy_to_couchdb)
    au = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    av = au.add_parser(
        "verify", help="recompute each tenant's audit hash chain; exit 1 at the first edited or missing entry"
    )
    which = av.add_mutually_exclusive_group()
    which.add_argument("--tenant", help="one tenant id (default: every tenant, and the instance's log)")
    which.add_argument("--instance", action="store_true", help="only the instance's own log")
    av.set_defaults(func=cmd_audit_verify)
    ai = au.add_parser(
        "instance",
        help="the instance's own log, newest first: sign-ins with e-mails no account has "
        "(the address, whether an e-mail address was typed and a keyed tag of it, "
        "counted per address and hour)",
    )
    ai.add_argument("--email", help="only the entries of this typed e-mail (compared by its tag)")
    ai.add_argument("--limit", type=int, default=100, help="at most this many entries (default 100)")
    ai.set_defaults(func=cmd_audit_instance)
    return p


# Commands that create what they need in an empty data folder; every other one works on an
# existing install and would otherwise create a new, empty one and then find nothing in it.
_MAY_START_EMPTY = {"serve", "restore", "tenant"}


def _missing_install(settings: Settings) -> str | None:
    """Why an administration command cannot run against this data folder, or None."""
    if settings.backend != "embedded":
        return None
    dbs = settings.data_dir / "dbs"
    if dbs.is_dir() and any(dbs.glob("*.sqlite")):
        return None
    return (
        f"no Branchline data in {settings.data_dir}. Point BRANCHLINE_DATA_DIR at the data folder "
        "the server uses, or run ./branchline from the checkout (it uses ./data, as `make run` does)."
    )


def _port_taken(host: str, port: int) -> bool:
    import socket  # noqa: PLC0415

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    restrict_umask()  # backups, restores and databases made here are the service user's only
    try:
        settings = Settings()
        needs_install = (
            args.command not in _MAY_START_EMPTY or getattr(args, "tenant_command", None) == "quota"
        )
        if needs_install and (why := _missing_install(settings)):
            print(f"error: {why}", file=sys.stderr)
            return 2
        return args.func(args, settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BranchlineError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
