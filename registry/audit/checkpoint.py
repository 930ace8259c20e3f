"""The audit chain's head anchored outside the database.

Each instance appends the head (event count, hash, time) to a sink the operator chooses, an
append-only file or syslog, whenever it has moved. Someone able to rewrite the audit table and
recompute the whole chain cannot reach those copies: `registry audit verify --checkpoint FILE`
proves the chain still passes through every head recorded there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import syslog
from datetime import datetime
from pathlib import Path

import asyncpg
import msgspec

from registry.audit import repo, service
from registry.errors import AuditChainBroken, ConfigurationError
from registry.runtime import Runtime

log = logging.getLogger("registry.audit")
# Marks checkpoint lines, so a syslog file holding other messages can be given as it is.
MARKER = "audit-checkpoint "


class Checkpoint(msgspec.Struct, frozen=True):
    events: int
    hash: str
    at: datetime
    instance: str

    def describe(self) -> str:
        return f"checkpoint of {self.at.isoformat()} by {self.instance} ({self.events} events, head {self.hash})"


def _append(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _emit(sink: str, line: str) -> None:
    if sink == "syslog":
        syslog.openlog("registry", syslog.LOG_PID, syslog.LOG_AUTH)
        syslog.syslog(syslog.LOG_NOTICE, line.rstrip("\n"))
    else:
        _append(Path(sink.removeprefix("file:")), line)


async def head(conn: asyncpg.Connection, now: datetime) -> Checkpoint:
    """The chain's head now, committed events sealed first; a chain whose head is gone has none
    to anchor (AuditChainBroken)."""
    await service.seal(conn)
    row = await repo.head(conn)
    if row is None:  # removed between the seal and this read
        raise AuditChainBroken("The audit chain's head record is missing: the log has been tampered with.")
    return Checkpoint(events=row["seq"], hash=bytes(row["hash"]).hex(), at=now, instance=_instance())


def _instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def write(sink: str, checkpoint: Checkpoint) -> None:
    line = MARKER + msgspec.json.encode(checkpoint).decode() + "\n"
    await asyncio.to_thread(_emit, sink, line)


async def run_forever(runtime: Runtime, sink: str) -> None:
    last: tuple[int, str] | None = None
    while True:
        try:
            async with runtime.db_pool().acquire() as conn:
                current = await head(conn, runtime.clock.now())
            if (current.events, current.hash) != last:
                await write(sink, current)
                last = (current.events, current.hash)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, AuditChainBroken) as exc:
            # The sink or the database is unavailable (the chain is still in the database), or the
            # chain has no head to anchor (the sealer says so as an error).
            log.warning("audit checkpoint failed; will retry", extra={"fields": {"error": type(exc).__name__}})
        await asyncio.sleep(runtime.settings.audit_checkpoint_interval_seconds)


def read(path: Path) -> list[Checkpoint]:
    """The checkpoints in a file the sink wrote (or a syslog file holding them)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the checkpoint file {path}: {exc.strerror}") from exc
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        start = line.find(MARKER)
        if start < 0:
            continue
        try:
            found.append(msgspec.json.decode(line[start + len(MARKER) :], type=Checkpoint))
        except msgspec.DecodeError as exc:
            raise ConfigurationError(f"line {number} of {path} is not a readable checkpoint: {exc}") from exc
    if not found:
        raise ConfigurationError(f"{path} holds no audit checkpoints")
    return found
