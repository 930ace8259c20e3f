"""The asyncpg pool and the one-transaction-per-request dependency."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import asyncpg
import msgspec
from litestar import Request
from litestar.di import NamedDependency

Connection = asyncpg.Connection
# A handler's `db: DB` parameter: the request's connection, inside its transaction.
DB = NamedDependency[asyncpg.Connection]


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: msgspec.json.encode(v).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


async def create_pool(url: str, min_size: int, max_size: int) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=30
    )
    return pool


def request_connection(request: Request[Any, Any, Any]) -> asyncpg.Connection:
    """The connection the request middleware acquired for this request."""
    conn: asyncpg.Connection = request.scope["state"]["db"]
    return conn


async def provide_db(request: Request[Any, Any, Any]) -> AsyncGenerator[asyncpg.Connection, None]:
    """One transaction per request: committed when the handler returns, rolled back when it
    raises (Litestar throws the handler's exception into this generator)."""
    conn = request_connection(request)
    async with conn.transaction():
        yield conn
