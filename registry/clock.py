"""Time as the rules see it.

Every time-dependent rule (TOTP steps, session timeouts, lockouts, approval expiry) asks a
Clock, never `datetime.now()` directly, so tests move time instead of sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from registry.errors import ConfigurationError


class Clock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class MovableClock(Clock):
    """A clock that stands still until told to move (tests, benchmarks)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


class OffsetClock(Clock):
    """The wall clock moved by an offset an operator keeps in a file (`REGISTRY_CLOCK_FILE`,
    written by `registry clock`): for acceptance runs and training, where a check must see the
    registry a season ahead without waiting. Every instance that reads the same file keeps the
    same time; the file is re-read whenever it changes. Never set in production."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._seen: int | None = None
        self._offset = timedelta(0)

    def offset(self) -> timedelta:
        try:
            changed = self._path.stat().st_mtime_ns
        except FileNotFoundError:
            return timedelta(0)
        with self._lock:
            if changed != self._seen:
                self._offset = read_offset(self._path)
                self._seen = changed
            return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()


def read_offset(path: Path) -> timedelta:
    """The offset in a clock file: whole seconds ahead of (or, negative, behind) the wall clock."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return timedelta(0)
    try:
        return timedelta(seconds=int(text or "0"))
    except ValueError as exc:
        raise ConfigurationError(f"{path} must hold a whole number of seconds, not {text[:40]!r}") from exc


def write_offset(path: Path, offset: timedelta) -> None:
    """Replace the offset at once (a rename), so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(f"{int(offset.total_seconds())}\n")
    temporary.replace(path)
