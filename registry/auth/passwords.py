"""Password hashing (argon2id) off the event loop, with a cap on hashes in flight, and the
weak-password rule of NIST SP 800-63B 5.1.1.2: length, not composition; refuse the guessable."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from registry.errors import Invalid
from registry.settings import PasswordHashParams

MIN_LENGTH = 12
MAX_LENGTH = 256  # bounds the cost of hashing what a stranger sends
# zxcvbn scores 0..4; 3 is "safely unguessable: moderate protection from offline slow-hash".
MIN_SCORE = 3


class Hasher:
    """argon2id with a dedicated thread pool: its size is the number of hashes that may run
    at once, so memory stays bounded (each hash takes `memory_cost` KiB) and a login storm
    queues instead of starving the event loop."""

    def __init__(self, params: PasswordHashParams, concurrency: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost, memory_cost=params.memory_cost, parallelism=params.parallelism
        )
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        # Verified against when the username is unknown, so that costs a hash too.
        self._dummy = self._hasher.hash("not a password of anyone's")

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """True if `password` matches `stored`; with no stored hash, spends the same effort."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._verify_sync, stored, password)

    def _verify_sync(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def check_new_password(password: str, *, username: str, display_name: str) -> None:
    """Refuse a password a person or a cracker would guess, saying why."""
    if len(password) < MIN_LENGTH:
        raise Invalid(
            f"The password must be at least {MIN_LENGTH} characters long; a passphrase of "
            "several unrelated words is easy to remember.",
            field="password",
        )
    if len(password) > MAX_LENGTH:
        raise Invalid(f"The password must be at most {MAX_LENGTH} characters long.", field="password")
    # Loaded on first use: its dictionaries cost a worker about 12 MB it needs only when someone
    # sets a password.
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=[username, *display_name.split(), "registry", "police"])
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        reason = feedback.get("warning") or "It is too easy to guess."
        hint = " ".join(feedback.get("suggestions") or []) or "Use a longer passphrase of unrelated words."
        raise Invalid(f"This password is too weak: {reason.rstrip('.')}. {hint}", field="password")
