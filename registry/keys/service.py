"""The key check at start-up, and rotation to a new secret key while the service runs.

Rotation, as an operator runs it (README, Configuration):
1. every instance restarts with REGISTRY_SECRET_KEY=new and REGISTRY_PREVIOUS_SECRET_KEYS=old:
   new writes are sealed under the new key, both keys decrypt, blind indexes keep the old key;
2. `registry keys rotate` (same environment) re-seals every confidential column in bounded
   batches, rebuilds the blind indexes under the new key in one transaction (instances follow
   within a seal interval), and re-seals the digest key last: from then on the database opens
   with the new key only;
3. every instance restarts without REGISTRY_PREVIOUS_SECRET_KEYS.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable

import asyncpg
import msgspec
from cryptography.exceptions import InvalidTag

from registry.accounts.schemas import AccountDetails
from registry.accounts.service import contact_index, handle_index
from registry.audit.actions import Action
from registry.audit.service import record
from registry.crypto import KEY_ID_LENGTH, Keyring
from registry.errors import ConfigurationError
from registry.keys import repo
from registry.personas.identity import _alias_index
from registry.personas.schemas import Identity
from registry.runtime import RequestContext, Runtime

log = logging.getLogger("registry.keys")

_DIGEST_KEY = "keyring.digest_key"
# How often a rotation looks again for rows a request held locked during its pass.
_PASSES = 20


class RotationResult(msgspec.Struct, frozen=True):
    key_id: str
    resealed: dict[str, int]
    aliases: int
    accounts: int


def _hex(key_id: bytes) -> str:
    return key_id.hex()


async def open_keyring(conn: asyncpg.Connection, keyring: Keyring, runtime: Runtime) -> None:
    """Check the configured keys open this database and take its digest and index keys;
    record them on first start. Refuses (ConfigurationError) rather than serve garbage."""
    row = await repo.get(conn)
    if row is None:
        await _check_existing(conn, keyring)
        sealed = keyring.encrypt(base64.b64encode(keyring.default_digest_key()).decode(), _DIGEST_KEY)
        await repo.create(conn, sealed, keyring.current_id, runtime.clock.now())
        row = await repo.get(conn)
        assert row is not None
    blob = bytes(row["digest_key"])
    try:
        digest_key = base64.b64decode(keyring.decrypt(blob, _DIGEST_KEY))
    except (InvalidTag, ValueError):
        named = keyring.sealed_with(blob)
        raise ConfigurationError(
            "REGISTRY_SECRET_KEY does not open this database: its key check fails"
            + (f" (it was sealed under key id {_hex(named)})" if named else "")
            + ". Start with the secret key this database was encrypted with (a restored backup needs the key "
            "of the database it came from); during a key rotation give the old key in "
            "REGISTRY_PREVIOUS_SECRET_KEYS until `registry keys rotate` has finished"
        ) from None
    index_key_id = bytes(row["index_key_id"])
    if index_key_id not in keyring.key_ids:
        raise ConfigurationError(
            f"this database's blind indexes are built with key id {_hex(index_key_id)}, which is not configured: "
            "a key rotation has not finished. Keep the old key in REGISTRY_PREVIOUS_SECRET_KEYS and run "
            "`registry keys rotate`"
        )
    keyring.use_digest_key(digest_key)
    keyring.use_index_key(index_key_id)


async def _check_existing(conn: asyncpg.Connection, keyring: Keyring) -> None:
    """A database encrypted before it kept a key check (an upgrade): one value of each sealed
    column must open before the configured key is recorded as the database's."""
    for table, column, context in repo.SEALED:
        sample = await repo.sample(conn, table, column)
        if sample is None:
            continue
        try:
            keyring.decrypt(bytes(sample["sealed"]), f"{context}:{sample['id']}")
        except (InvalidTag, ValueError):
            raise ConfigurationError(
                f"REGISTRY_SECRET_KEY does not open this database: it cannot decrypt {table}.{column}. "
                "Start with the secret key this database was encrypted with"
            ) from None


async def follow(runtime: Runtime) -> None:
    """Take up the index key a rotation moved to, continually (every seal interval)."""
    while True:
        try:
            async with runtime.db_pool().acquire() as conn:
                row = await repo.get(conn)
            if row is not None:
                if bytes(row["index_key_id"]) in runtime.keyring.key_ids:
                    runtime.keyring.use_index_key(bytes(row["index_key_id"]))
                else:
                    # Lookups by alias and handle would miss: the operator must restart it with the new key.
                    log.error("blind indexes moved to a key this instance does not have; restart it with that key")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("reading the keyring failed; will retry", extra={"fields": {"error": type(exc).__name__}})
        await asyncio.sleep(runtime.settings.audit_seal_interval_seconds)


async def _reseal_column(
    pool: asyncpg.Pool, keyring: Keyring, table: str, column: str, context: str, batch: int, pause: float
) -> int:
    prefix = b"\x02" + keyring.current_id
    assert len(prefix) == 1 + KEY_ID_LENGTH
    done = 0
    for _ in range(_PASSES):
        after = None
        while True:
            async with pool.acquire() as conn, conn.transaction():
                await repo.allow_resealing(conn)
                rows = await repo.stale_batch(conn, table, column, prefix, after, batch)
                if not rows:
                    break
                values = [
                    (r["id"], keyring.encrypt(keyring.decrypt(bytes(r["sealed"]), bound), bound))
                    for r in rows
                    for bound in [f"{context}:{r['id']}"]
                ]
                await repo.reseal(conn, table, column, values)
            done += len(rows)
            after = rows[-1]["id"]
            # Leave room for requests between batches.
            await asyncio.sleep(pause)
        async with pool.acquire() as conn:
            if await repo.count_stale(conn, table, column, prefix) == 0:
                return done
        await asyncio.sleep(max(pause, 0.2))  # a request held some rows: look again
    raise RuntimeError(f"{table}.{column}: rows stayed locked through {_PASSES} passes; run the rotation again")


async def _rebuild_indexes(conn: asyncpg.Connection, runtime: Runtime) -> tuple[int, int]:
    """Every alias and handle index under the current key, in one transaction with the
    keyring's switch: a lookup sees the old indexes or the new, never a mixture."""
    keyring = runtime.keyring
    keyring.use_index_key(keyring.current_id)
    async with conn.transaction():
        aliases = []
        for row in await repo.lock_personas(conn):
            plain = keyring.decrypt(bytes(row["identity"]), f"personas.identity:{row['id']}")
            index = _alias_index(runtime, msgspec.json.decode(plain, type=Identity))
            if index != bytes(row["alias_index"]):
                aliases.append((row["id"], index))
        accounts = []
        for row in await repo.lock_accounts(conn):
            plain = keyring.decrypt(bytes(row["details"]), f"platform_accounts.details:{row['id']}")
            details = msgspec.json.decode(plain, type=AccountDetails)
            indexes = (
                handle_index(runtime, row["platform_id"], details.handle),
                contact_index(runtime, details.email, "email") if details.email else None,
                contact_index(runtime, details.phone, "phone") if details.phone else None,
            )
            stored = tuple(
                None if v is None else bytes(v) for v in (row["handle_index"], row["email_index"], row["phone_index"])
            )
            if indexes != stored:
                accounts.append((row["id"], *indexes))
        await repo.set_alias_indexes(conn, aliases)
        await repo.set_account_indexes(conn, accounts)
        await repo.set_index_key(conn, keyring.current_id)
    return len(aliases), len(accounts)


async def rotate(
    runtime: Runtime,
    ctx: RequestContext,
    *,
    batch: int = 200,
    pause: float = 0.05,
    settle: float = 2.0,
    progress: Callable[[str], None] = lambda _: None,
) -> RotationResult:
    """Re-seal everything under the current key; see the module's docstring for the steps."""
    keyring = runtime.keyring
    pool = runtime.db_pool()
    new_id = _hex(keyring.current_id)
    async with pool.acquire() as conn, conn.transaction():
        await record(
            conn,
            ctx,
            Action.KEYS_ROTATION_STARTED,
            target_type="keyring",
            details={"key_id": new_id, "previous_key_ids": [_hex(k) for k in keyring.key_ids[1:]]},
        )
    resealed: dict[str, int] = {}
    for table, column, context in repo.SEALED:
        resealed[f"{table}.{column}"] = await _reseal_column(pool, keyring, table, column, context, batch, pause)
        progress(f"re-sealed {table}.{column}: {resealed[f'{table}.{column}']}")
    async with pool.acquire() as conn:
        aliases, accounts = await _rebuild_indexes(conn, runtime)
        progress(f"rebuilt blind indexes: {aliases} aliases, {accounts} accounts (handle, recovery contacts)")
        # Instances take up the new index key within their seal interval; a persona or account
        # written meanwhile got an index under the old key: rebuild once more after they have.
        await asyncio.sleep(settle)
        late_aliases, late_accounts = await _rebuild_indexes(conn, runtime)
        async with conn.transaction():
            row = await repo.get(conn)
            assert row is not None
            digest_key = keyring.decrypt(bytes(row["digest_key"]), _DIGEST_KEY)
            await repo.set_digest_key(conn, keyring.encrypt(digest_key, _DIGEST_KEY), ctx.now)
            result = RotationResult(
                key_id=new_id,
                resealed=resealed,
                aliases=aliases + late_aliases,
                accounts=accounts + late_accounts,
            )
            await record(conn, ctx, Action.KEYS_ROTATED, target_type="keyring", details=msgspec.to_builtins(result))
    return result
