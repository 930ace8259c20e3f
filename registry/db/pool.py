"""The asyncpg pool and the one-transaction-per-request dependency."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from typing import Any

import asyncpg
import msgspec
from litestar import Request
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from registry.runtime import Ctx, Runtime, RuntimeDep

# A handler's `db: DB` parameter: the request's connection, inside its transaction.
DB = NamedDependency[asyncpg.Connection]
# A handler's `autocommit: Autocommit` parameter: the request's connection without a
# transaction around the request, so no BEGIN and no COMMIT (two round trips fewer). Only for
# a handler that writes nothing or whose one write is one statement with its reads: PostgreSQL
# runs a statement, its data-modifying WITH clauses included, as a transaction of its own, and
# under READ COMMITTED each statement of a transaction sees its own snapshot anyway, so reads
# lose nothing outside one. A handler that writes twice takes `db: DB`.
Autocommit = NamedDependency[asyncpg.Connection]


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: msgspec.json.encode(v).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (one round trip per release): the registry never
    changes session state on pooled connections (no SET, LISTEN or advisory locks), and asyncpg
    still rolls back a transaction left open."""


# Every statement is prepared (asyncpg, which keeps a connection's last 100) and its plan made
# for any parameters, once: PostgreSQL otherwise plans the need-to-know lists afresh on every run
# (about as long as running them), since their generic plan's estimate looks dearer than a plan
# for the values at hand. A condition an index serves is therefore written into the statement,
# not guarded by `$n IS NULL OR`, which a generic plan cannot use to bound its walk: a list's
# filters and a keyset's cursor make a statement of their own (tests/lifecycle/test_list_plans.py
# checks the lists' generic plans for every role).
_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan"}


async def create_pool(url: str, min_size: int, max_size: int) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
        server_settings=_SERVER_SETTINGS,
    )
    return pool


# Set on a request's scope state when its connection was lost under it (registry.app answers 503).
CONNECTION_LOST = "database_connection_lost"


class DatabaseUnavailable(Exception):
    """The connection to PostgreSQL was lost: the server restarted, crashed or failed over."""


# What a request meets while PostgreSQL restarts or fails over: connections refused or cut,
# the server shutting down or still recovering.
UNAVAILABLE: tuple[type[Exception], ...] = (
    DatabaseUnavailable,
    OSError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


@contextlib.asynccontextmanager
async def connection(runtime: Runtime) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection outside the request's transaction (the session check, deferred
    failure audits): an error on a connection the server dropped is the database being
    unavailable (503), not a bug."""
    async with runtime.db_pool().acquire() as conn:
        with lost_is_unavailable(conn):
            yield conn


@contextlib.contextmanager
def lost_is_unavailable(conn: asyncpg.Connection) -> Iterator[None]:
    try:
        yield
    except (asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:
        if conn.is_closed():
            raise DatabaseUnavailable("connection lost") from exc
        raise


@contextlib.asynccontextmanager
async def transaction(runtime: Runtime) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection inside a transaction, for handlers that must not hold one while they
    wait (a password hash): they open the request's transaction when they are ready."""
    async with runtime.db_pool().acquire() as conn, in_transaction(conn):
        yield conn


@contextlib.asynccontextmanager
async def in_transaction(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A transaction on a connection already held: a handler on `Autocommit` that must run a
    statement outside any transaction first (sealing the audit chain) opens its own this way."""
    tx = conn.transaction()
    try:
        await tx.start()
    except Exception as exc:
        if conn.is_closed():
            raise DatabaseUnavailable("connection lost before the transaction began") from exc
        raise
    try:
        yield
    except BaseException:
        # A lost connection took its transaction with it (the server rolls it back); the
        # body's own exception goes on unchanged, as Litestar expects of a dependency.
        if not conn.is_closed():
            await tx.rollback()
        raise
    try:
        await tx.commit()
    except Exception as exc:
        if conn.is_closed():
            raise DatabaseUnavailable("connection lost at commit") from exc
        raise


# Set on a request's scope state while it holds the connection its session was checked on
# (registry.auth.middleware): the handler's `db` or `autocommit` is that connection.
REQUEST_CONNECTION = "request_connection"
# Set in the opt of every route handler that takes the request's connection (`db` or
# `autocommit`, itself or through a dependency it takes), by `mark_connection_takers`.
TAKES_CONNECTION = "takes_connection"
_CONNECTION_DEPENDENCIES = frozenset({"db", "autocommit"})


def mark_connection_takers(handlers: Iterable[HTTPRouteHandler]) -> None:
    """Mark each handler that takes the request's connection, at startup: the session check
    keeps its connection for those, and gives it back before any other handler runs."""
    for handler in handlers:
        provided = handler.resolve_dependencies()
        taken: set[str] = set()
        wanted = [name for name in handler.parsed_fn_signature.parameters if name in provided]
        while wanted:
            name = wanted.pop()
            if name not in taken:
                taken.add(name)
                wanted.extend(n for n in provided[name].parsed_fn_signature.parameters if n in provided)
        handler.opt[TAKES_CONNECTION] = bool(taken & _CONNECTION_DEPENDENCIES)


class RequestConnection:
    """The one pooled connection a signed-in request borrows: its session is checked on it,
    and a handler that takes the request's connection (see `mark_connection_takers`) gets it
    too, so a request borrows once, not twice. Any other handler runs after it has been given
    back, so a request never waits for a second connection while holding a first. Given back
    when the answer starts (a slow reader of a long answer holds none), or when the request
    ends without one."""

    def __init__(self, runtime: Runtime, state: dict[str, Any]) -> None:
        self._pool = runtime.db_pool()
        self._state = state
        self.conn: asyncpg.Connection | None = None

    async def borrow(self) -> asyncpg.Connection:
        self.conn = conn = await self._pool.acquire()
        return conn

    def lend(self) -> None:
        """The handler's `db` or `autocommit` is this connection."""
        self._state[REQUEST_CONNECTION] = self.conn

    def fit(self) -> asyncpg.Connection | None:
        """The connection, if it is open and no transaction is left on it."""
        conn = self.conn
        return conn if conn is not None and not conn.is_closed() and not conn.is_in_transaction() else None

    async def give_back(self) -> None:
        self._state.pop(REQUEST_CONNECTION, None)
        conn, self.conn = self.conn, None
        if conn is not None:
            await self._pool.release(conn)


@contextlib.contextmanager
def _noting_loss(request: Request[Any, Any, Any], conn: asyncpg.Connection) -> Iterator[None]:
    try:
        yield
    except BaseException:
        if conn.is_closed():
            request.scope["state"][CONNECTION_LOST] = True
        raise


@contextlib.asynccontextmanager
async def _handler_connection(request: Request[Any, Any, Any], runtime: Runtime) -> AsyncIterator[asyncpg.Connection]:
    """The connection the request's session was checked on, if the request holds one (see
    `RequestConnection`), else one borrowed for the handler; either way noted if lost under it."""
    held: asyncpg.Connection | None = request.scope["state"].get(REQUEST_CONNECTION)
    if held is not None:
        with _noting_loss(request, held):
            yield held
        return
    async with runtime.db_pool().acquire() as conn:
        with _noting_loss(request, conn):
            yield conn


async def provide_db(
    request: Request[Any, Any, Any], runtime: RuntimeDep, ctx: Ctx
) -> AsyncGenerator[asyncpg.Connection, None]:
    """One transaction per request: committed when the handler returns, rolled back when it
    raises (Litestar throws the handler's exception into this generator). After `ctx`, so that
    Litestar resolves dependencies one after another (registry.runtime)."""
    async with _handler_connection(request, runtime) as conn, in_transaction(conn):
        yield conn


async def provide_autocommit(
    request: Request[Any, Any, Any], runtime: RuntimeDep, ctx: Ctx
) -> AsyncGenerator[asyncpg.Connection, None]:
    """The request's connection for `Autocommit` handlers (no transaction around the request)."""
    async with _handler_connection(request, runtime) as conn:
        yield conn
