"""Keys and ciphers for confidential fields.

One configured secret is split with HKDF into keys that each do one job, so that a key used
for the blind index can never decrypt, and a token digest can never be replayed as a key.

Every ciphertext names the secret that sealed it (a key id derived from the secret), so a
keyring holding the new secret and the previous ones reads everything while `registry keys
rotate` re-encrypts (registry.keys).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from registry.identifiers import skeleton

# Version 1: version, nonce, ciphertext (before key ids). Version 2 adds the key id.
_V1 = b"\x01"
_V2 = b"\x02"
KEY_ID_LENGTH = 8


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret)


class _Key:
    def __init__(self, secret: bytes) -> None:
        self.id = _derive(secret, "registry/key-id/v1")[:KEY_ID_LENGTH]
        self.aead = AESGCM(_derive(secret, "registry/field-encryption/v1"))
        self.index_key = _derive(secret, "registry/blind-index/v1")
        self.digest_key = _derive(secret, "registry/secret-digest/v1")


class Keyring:
    """The current secret (encrypts) and previous ones (still decrypt during a rotation).

    Blind indexes use the key the database says its indexes were built with
    (`use_index_key`), and digests of high-entropy secrets use the database's digest key
    (`use_digest_key`): both default to the current secret's, which is what a new database
    records at first start."""

    def __init__(self, secret: bytes, previous: Sequence[bytes] = ()) -> None:
        self._current = _Key(secret)
        self._keys = {self._current.id: self._current}
        for old in previous:
            key = _Key(old)
            self._keys.setdefault(key.id, key)
        self._index_key = self._current.index_key
        self._digest_key = self._current.digest_key

    @property
    def current_id(self) -> bytes:
        return self._current.id

    @property
    def key_ids(self) -> list[bytes]:
        return list(self._keys)

    def default_digest_key(self) -> bytes:
        """What a database without a digest key of its own starts with: the key digests were
        made with before databases held one, so existing sessions and codes stay valid."""
        return self._current.digest_key

    def use_index_key(self, key_id: bytes) -> None:
        key = self._keys.get(key_id)
        if key is None:
            raise KeyError(key_id)
        self._index_key = key.index_key

    def use_digest_key(self, digest_key: bytes) -> None:
        self._digest_key = digest_key

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """AES-256-GCM; `context` (table, column, row) is bound as associated data, so a
        ciphertext copied onto another row or column fails to decrypt."""
        nonce = os.urandom(12)
        sealed = self._current.aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _V2 + self._current.id + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> str:
        if blob[:1] == _V2:
            key = self._keys.get(blob[1 : 1 + KEY_ID_LENGTH])
            if key is None:
                raise ValueError("sealed with a secret key that is not configured")
            body = blob[1 + KEY_ID_LENGTH :]
            return key.aead.decrypt(body[:12], body[12:], context.encode()).decode()
        if blob[:1] == _V1:
            # Sealed before key ids: whichever configured key opens it (GCM's tag tells).
            for key in self._keys.values():
                try:
                    return key.aead.decrypt(blob[1:13], blob[13:], context.encode()).decode()
                except InvalidTag:
                    continue
            raise InvalidTag()
        raise ValueError("unknown ciphertext version")

    def is_current(self, blob: bytes) -> bool:
        """Sealed under the current secret (nothing for a rotation to do)."""
        return blob[: 1 + KEY_ID_LENGTH] == _V2 + self._current.id

    def sealed_with(self, blob: bytes) -> bytes | None:
        """The key id a ciphertext names (None before key ids)."""
        return blob[1 : 1 + KEY_ID_LENGTH] if blob[:1] == _V2 else None

    def blind_index(self, value: str, scope: str) -> bytes:
        """Keyed digest for exact-match lookups of a name, by its confusable skeleton: insensitive
        to case, spacing, invisible characters and look-alike letters (registry.identifiers)."""
        normal = skeleton(value)
        return hmac.digest(self._index_key, f"{scope}\x00{normal}".encode(), "sha256")

    def digest(self, secret: str) -> bytes:
        """Keyed digest of a high-entropy secret (session token, recovery code)."""
        return hmac.digest(self._digest_key, secret.encode(), "sha256")
