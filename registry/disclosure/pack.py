"""The disclosure pack as a file: a ZIP holding the readable report, its JSON twin, the identity
part (only when a passphrase was given, encrypted under it) and a manifest with the SHA-256 of
every other file. Everything here works on bytes alone, so the pack can be checked by anyone
holding it; checking it against the registry's audit chain is the service's part."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
import zlib
from typing import Any

import msgspec
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "persona-registry-disclosure/1"
MANIFEST = "manifest.json"
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
IDENTITY = "identity.enc"
# A fixed time on every entry: the bytes of a pack depend on its content only.
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
# argon2id, RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes); written into the
# part so a later change of these does not strand packs already handed over.
KDF = {"name": "argon2id", "time_cost": 3, "memory_cost": 65536, "parallelism": 4}
# A crafted file must not make the verifier allocate without bound.
_MAX_MEMORY_COST = 1024 * 1024
_MAX_TIME_COST = 16
_MAX_PARALLELISM = 16
MAX_PACK_BYTES = 256 * 1024 * 1024


class PackError(Exception):
    """The file is not an intact pack; the message names what does not hold."""


class Problem(msgspec.Struct, frozen=True):
    """One thing that does not hold, and where."""

    where: str
    reason: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key(passphrase: str, salt: bytes, kdf: dict[str, Any]) -> bytes:
    return hash_secret_raw(
        passphrase.encode(),
        salt,
        time_cost=kdf["time_cost"],
        memory_cost=kdf["memory_cost"],
        parallelism=kdf["parallelism"],
        hash_len=32,
        type=Type.ID,
    )


def seal_identity(identity: object, passphrase: str, pack_id: str) -> bytes:
    """AES-256-GCM under a key stretched from the passphrase; the pack id is bound as associated
    data, so the part cannot be moved into another pack. Blocking (argon2): run it in a thread."""
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_key(passphrase, salt, KDF)).encrypt(nonce, msgspec.json.encode(identity), pack_id.encode())
    envelope = {
        "format": FORMAT,
        "pack_id": pack_id,
        "kdf": {**KDF, "salt": base64.b64encode(salt).decode()},
        "cipher": "AES-256-GCM",
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    return msgspec.json.format(msgspec.json.encode(envelope), indent=2)


def open_identity(pack: bytes, passphrase: str) -> Any:
    """The identity part, decrypted; PackError when there is none or the passphrase is wrong."""
    files = read(pack)
    if IDENTITY not in files:
        raise PackError("this pack has no identity part (it was exported without a passphrase)")
    try:
        envelope = msgspec.json.decode(files[IDENTITY])
        kdf = envelope["kdf"]
        if not (
            kdf["name"] == "argon2id"
            and 0 < kdf["time_cost"] <= _MAX_TIME_COST
            and 8 <= kdf["memory_cost"] <= _MAX_MEMORY_COST
            and 0 < kdf["parallelism"] <= _MAX_PARALLELISM
        ):
            raise PackError("the identity part names key derivation parameters this tool does not accept")
        key = _key(passphrase, base64.b64decode(kdf["salt"]), kdf)
        plain = AESGCM(key).decrypt(
            base64.b64decode(envelope["nonce"]), base64.b64decode(envelope["ciphertext"]), envelope["pack_id"].encode()
        )
    except InvalidTag as exc:
        raise PackError("the passphrase does not open the identity part (or the part was changed)") from exc
    except (msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
        raise PackError("the identity part is not readable") from exc
    return msgspec.json.decode(plain)


def build(files: dict[str, bytes], manifest: dict[str, Any]) -> bytes:
    """The ZIP: the files, and a manifest carrying each one's SHA-256."""
    listed = {**manifest, "files": {name: sha256(data) for name, data in sorted(files.items())}}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [(MANIFEST, msgspec.json.format(msgspec.json.encode(listed), indent=2)), *files.items()]:
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def read(pack: bytes) -> dict[str, bytes]:
    """Every file of the ZIP; PackError naming the one that cannot be read."""
    if len(pack) > MAX_PACK_BYTES:
        raise PackError("the file is larger than any pack this registry makes")
    try:
        archive = zipfile.ZipFile(io.BytesIO(pack))
    except zipfile.BadZipFile as exc:
        raise PackError(f"not a readable ZIP file: {exc}") from exc
    files: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            if info.file_size > MAX_PACK_BYTES or info.filename in files:
                raise PackError(f"{info.filename}: not a file this registry writes")
            try:
                files[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
                raise PackError(f"{info.filename}: its bytes in the ZIP are damaged ({exc})") from exc
    return files


def manifest_of(files: dict[str, bytes]) -> dict[str, Any]:
    if MANIFEST not in files:
        raise PackError(f"the pack has no {MANIFEST}")
    try:
        manifest = msgspec.json.decode(files[MANIFEST])
    except msgspec.DecodeError as exc:
        raise PackError(f"{MANIFEST} is not readable JSON") from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
    ):
        raise PackError(f"{MANIFEST} is not the manifest of a {FORMAT} pack")
    return manifest


def check_files(pack: bytes) -> tuple[dict[str, Any], dict[str, bytes], list[Problem]]:
    """The manifest, the files, and every file whose bytes differ from the manifest (or that
    one lists and the other lacks)."""
    files = read(pack)
    manifest = manifest_of(files)
    listed: dict[str, Any] = manifest["files"]
    problems = []
    for name in sorted(set(listed) | set(files) - {MANIFEST}):
        if name not in files:
            problems.append(Problem(name, "listed in the manifest but missing from the pack"))
        elif name not in listed:
            problems.append(Problem(name, "in the pack but not listed in the manifest"))
        elif sha256(files[name]) != listed[name]:
            problems.append(Problem(name, "its SHA-256 differs from the manifest's: the file was changed"))
    if REPORT_JSON in files and not problems:
        report = msgspec.json.decode(files[REPORT_JSON])
        for key in ("pack_id", "subject", "chain_head"):
            if report.get(key) != manifest.get(key):
                problems.append(Problem(MANIFEST, f"its {key} differs from the report's"))
    return manifest, files, problems
