"""`registry serve | migrate | user add | audit verify | keys rotate | disclosure | jobs run | clock | demo`."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from registry import demo
from registry.app import create_app
from registry.audit import checkpoint
from registry.audit import service as audit_service
from registry.clock import read_offset, write_offset
from registry.db.embedded import start_embedded
from registry.db.migrate import migrate
from registry.disclosure import cli as disclosure_cli
from registry.errors import ConfigurationError, DomainError
from registry.jobs import JobsResult
from registry.jobs import run_once as run_jobs
from registry.keys import service as keys
from registry.observability import configure_logging
from registry.policy import ROLES, load_policy
from registry.runtime import RequestContext, Runtime, runtime_of
from registry.settings import Settings
from registry.users import service as users
from registry.users.schemas import UserCreate


def database_url(settings: Settings) -> str:
    """The configured server, or the embedded one under the data directory (started now, and
    stopped when this process exits)."""
    if settings.database_url:
        return settings.database_url
    url = start_embedded(settings.data_dir)
    # Workers find the same server, and the same development key, through the environment.
    os.environ["REGISTRY_DATABASE_URL"] = url
    os.environ["REGISTRY_SECRET_KEY"] = base64.urlsafe_b64encode(settings.secret_key).decode()
    return url


def cli_context(runtime: Runtime) -> RequestContext:
    return RequestContext(now=runtime.clock.now(), ip=None, request_id="cli", user=None)


@contextlib.asynccontextmanager
async def cli_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The app's runtime with its pool open, for commands that act like a request."""
    app = create_app(msgspec.structs.replace(settings, audit_seal_interval_seconds=0, jobs_interval_seconds=0))
    try:
        async with app.lifespan():
            yield runtime_of(app.state)
    except BaseExceptionGroup as group:
        # The lifespan runs in a task group, which wraps what the command raised: hand the
        # command's own error on, so `main` reports it as a message, not a traceback.
        error: BaseException = group
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        if error is group:
            raise
        raise error from None


def _migrate(settings: Settings) -> Settings:
    """Bring the database up to date; the settings, now naming the database in use."""
    url = database_url(settings)
    for name in asyncio.run(migrate(url, app_role=settings.database_app_role)):
        print(f"applied {name}")
    return msgspec.structs.replace(settings, database_url=url)


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    _migrate(settings)
    print("database is up to date")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    load_policy(settings.policy_path)  # fail before binding a port
    # Every core when PostgreSQL runs elsewhere; with the embedded one, one worker: the database
    # needs the same cores (bench/README.md: a second worker gave no steady gain on two cores).
    workers = args.workers or ((os.cpu_count() or 1) if settings.database_url else 1)
    settings = _migrate(settings)
    asyncio.run(_check_keys(settings))
    print(f"Persona Registry listening on http://{args.host}:{args.port}", flush=True)
    # uvicorn re-raises SIGTERM once it has shut down; exit normally instead, so the embedded
    # database (stopped at exit) stops with the service.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "registry.asgi:app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_config=None,
        access_log=False,  # our own request log is allow-listed (registry.observability)
        proxy_headers=False,
        server_header=False,
    )
    return 0


async def _check_keys(settings: Settings) -> None:
    """The key check, before binding a port: a wrong key is refused with its message here
    rather than as a failed start-up inside the server (the lifespan checks it again)."""
    async with cli_runtime(settings):
        pass


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print(
            "give the password on standard input with --password-stdin (never on the command line)",
            file=sys.stderr,
        )
        return 2
    password = sys.stdin.readline().rstrip("\n")
    data = msgspec.convert(
        {
            "username": args.username,
            "display_name": args.display_name or args.username,
            "roles": args.role,
            "password": password,
        },
        UserCreate,
    )
    settings = _migrate(settings)

    async def run() -> None:
        async with cli_runtime(settings) as runtime:
            # The console bootstraps: its roles are held at once and its password is the user's own.
            user, _ = await users.create(runtime, cli_context(runtime), data, by_console=True)
            print(f"created {user.username} ({', '.join(user.roles)}), id {user.id}")
            print("At first sign-in they enroll an authenticator app (TOTP).")

    asyncio.run(run())
    return 0


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    anchors = checkpoint.read(args.checkpoint) if args.checkpoint else []
    settings = _migrate(settings)

    async def run() -> bool:
        async with cli_runtime(settings) as runtime, runtime.db_pool().acquire() as conn:
            result = await audit_service.verify(conn, anchors)
        print(msgspec.json.encode(result).decode())
        return result.ok

    return 0 if asyncio.run(run()) else 1


def cmd_keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.previous_secret_keys:
        print(
            "registry: set REGISTRY_SECRET_KEY to the new key and REGISTRY_PREVIOUS_SECRET_KEYS to the old one, "
            "as every running instance has them, then rotate",
            file=sys.stderr,
        )
        return 2
    settings = _migrate(settings)

    async def run() -> None:
        async with cli_runtime(settings) as runtime:
            result = await keys.rotate(
                runtime, cli_context(runtime), batch=args.batch, settle=args.settle_seconds, progress=print
            )
        print(msgspec.json.encode(result).decode())
        print(
            "rotation finished: restart every instance with REGISTRY_SECRET_KEY alone "
            "(REGISTRY_PREVIOUS_SECRET_KEYS unset) and retire the old key"
        )

    asyncio.run(run())
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    settings = _migrate(settings)

    async def run() -> None:
        async with cli_runtime(settings) as runtime:
            if args.action == "codes":
                await demo.print_codes(runtime)
            else:
                await demo.seed(runtime, cli_context(runtime))

    asyncio.run(run())
    return 0


def cmd_jobs_run(settings: Settings, _: argparse.Namespace) -> int:
    """One round of the periodic work, now (what each instance does every interval)."""
    settings = _migrate(settings)

    async def run() -> JobsResult:
        async with cli_runtime(settings) as runtime:
            return await run_jobs(runtime)

    print(msgspec.json.encode(asyncio.run(run())).decode())
    return 0


_DURATION = re.compile(r"\A(-?\d+)([dhms])\Z")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise ConfigurationError(f"a duration is a whole number and d, h, m or s (such as 90d), not {text!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def cmd_clock(settings: Settings, args: argparse.Namespace) -> int:
    """Show or move the time the rules see, through REGISTRY_CLOCK_FILE (every instance that
    reads the file follows at once)."""
    if settings.clock_file is None:
        raise ConfigurationError("set REGISTRY_CLOCK_FILE to a file every instance reads to move its clock")
    offset = read_offset(settings.clock_file)
    if args.action == "advance":
        offset += _duration(args.value or "")
    elif args.action == "set":
        try:
            when = datetime.fromisoformat(args.value or "")
        except ValueError as exc:
            raise ConfigurationError(
                f"give the time as ISO 8601, such as 2027-06-01T09:00:00Z, not {args.value!r}"
            ) from exc
        if when.tzinfo is None:
            raise ConfigurationError("give the time with a time zone, such as 2027-06-01T09:00:00Z")
        offset = when - datetime.now(UTC)
    elif args.action == "reset":
        offset = timedelta(0)
    if args.action != "show":
        write_offset(settings.clock_file, offset)
    now = datetime.now(UTC) + offset
    print(msgspec.json.encode({"now": now.isoformat(), "offset_seconds": int(offset.total_seconds())}).decode())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="registry", description="The Persona Registry")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: one per core with REGISTRY_DATABASE_URL set, else 1)",
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="manage user accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create a user (bootstraps the first administrator)")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True, choices=ROLES)
    add.add_argument("--display-name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_user_add)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="recompute the audit hash chain")
    verify.add_argument(
        "--checkpoint", type=Path, help="a checkpoint file (REGISTRY_AUDIT_CHECKPOINT): the chain must hold its heads"
    )
    verify.set_defaults(func=cmd_audit_verify)

    keys_cmd = sub.add_parser("keys", help="the secret key").add_subparsers(dest="keys_command", required=True)
    rotate = keys_cmd.add_parser("rotate", help="re-seal everything under REGISTRY_SECRET_KEY (see README)")
    rotate.add_argument("--batch", type=int, default=200, help="rows re-sealed per transaction")
    rotate.add_argument(
        "--settle-seconds",
        type=float,
        default=2.0,
        help="wait after the index switch for instances to follow (a few seal intervals), then rebuild once more",
    )
    rotate.set_defaults(func=cmd_keys_rotate)

    disclosure_cli.add_commands(sub, _migrate, cli_runtime, cli_context)

    jobs = sub.add_parser("jobs", help="periodic work").add_subparsers(dest="jobs_command", required=True)
    jobs.add_parser("run", help="run one round of the periodic work now").set_defaults(func=cmd_jobs_run)

    clock = sub.add_parser("clock", help="show or move the time the rules see (REGISTRY_CLOCK_FILE)")
    clock.add_argument("action", choices=["show", "advance", "set", "reset"])
    clock.add_argument("value", nargs="?", help="advance: a duration such as 90d or -2h; set: an ISO 8601 time")
    clock.set_defaults(func=cmd_clock)

    demo_cmd = sub.add_parser("demo", help="seed a demo department and print how to sign in")
    demo_cmd.add_argument(
        "action",
        nargs="?",
        choices=["seed", "codes"],
        default="seed",
        help="seed (default) or print each demo user's current TOTP code",
    )
    demo_cmd.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level if args.command == "serve" else "WARNING")
        code: int = args.func(settings, args)
        return code
    except ConfigurationError as exc:
        print(f"registry: configuration error: {exc}", file=sys.stderr)
        return 78  # EX_CONFIG
    except DomainError as exc:
        print(f"registry: {exc.detail}", file=sys.stderr)
        return 1
    except msgspec.ValidationError as exc:
        print(f"registry: {exc}", file=sys.stderr)
        return 2
