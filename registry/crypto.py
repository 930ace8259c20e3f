"""Keys and ciphers for confidential fields.

One configured secret is split with HKDF into keys that each do one job, so that a key used
for the blind index can never decrypt, and a token digest can never be replayed as a key.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from registry.identifiers import skeleton

_VERSION = b"\x01"


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret)


class Keyring:
    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(_derive(secret, "registry/field-encryption/v1"))
        self._index_key = _derive(secret, "registry/blind-index/v1")
        self._digest_key = _derive(secret, "registry/secret-digest/v1")

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """AES-256-GCM; `context` (table, column, row) is bound as associated data, so a
        ciphertext copied onto another row or column fails to decrypt."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(blob[1:13], blob[13:], context.encode()).decode()

    def blind_index(self, value: str, scope: str) -> bytes:
        """Keyed digest for exact-match lookups of a name, by its confusable skeleton: insensitive
        to case, spacing, invisible characters and look-alike letters (registry.identifiers)."""
        normal = skeleton(value)
        return hmac.new(self._index_key, f"{scope}\x00{normal}".encode(), hashlib.sha256).digest()

    def digest(self, secret: str) -> bytes:
        """Keyed digest of a high-entropy secret (session token, recovery code)."""
        return hmac.new(self._digest_key, secret.encode(), hashlib.sha256).digest()
