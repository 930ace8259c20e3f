"""Configuration, read from the environment once.

Production takes its keys from the environment; a development machine without
`REGISTRY_SECRET_KEY` gets one generated into the data directory on first run (a file that
is never committed: the data directory is git-ignored).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from registry.errors import ConfigurationError


class PasswordHashParams(msgspec.Struct, frozen=True):
    """argon2id costs; the defaults are argon2-cffi's (RFC 9106 low-memory profile)."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where reminders are sent from (REGISTRY_SMTP_*); without a host, they wait in the outbox."""

    host: str
    port: int
    sender: str
    # "starttls" (submission, port 587), "tls" (implicit TLS, port 465) or "none" (a relay on a
    # trusted network, port 25).
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 10.0


_SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    database_url: str | None
    # The role the service connects as in production, when it is not the one that runs the
    # migrations: `registry migrate` (as the owner) ends by granting it what the service needs and
    # nothing more (registry/db/grants.py). Unset: one role does both, as in development.
    database_app_role: str | None = None
    policy_path: Path
    secret_key: bytes
    # Secrets being rotated away from: they still decrypt until `registry keys rotate` is done.
    previous_secret_keys: tuple[bytes, ...] = ()
    cookie_secure: bool = True
    # How many argon2id hashes may run at once. Each costs `memory_cost` KiB and keeps about
    # one core busy (its lanes run on threads), so this bounds the memory a login storm can
    # take and leaves half the cores to everyone else.
    password_hash_concurrency: int = msgspec.field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2))
    password_hash: PasswordHashParams = PasswordHashParams()
    log_level: str = "INFO"
    pool_min_size: int = 2
    pool_max_size: int = 20
    # Background work (audit chain sealing) can be switched off for tools that only migrate.
    audit_seal_interval_seconds: float = 0.5
    # Periodic work (overdue reviews, reminders, mail delivery): how often each instance looks;
    # 0 switches it off. Claims in PostgreSQL make each item run once however many instances look.
    jobs_interval_seconds: float = 60.0
    smtp: SmtpSettings | None = None
    # Where people reach the service (REGISTRY_PUBLIC_URL), for links handed out of it such as
    # the calendar feed: never taken from a request's Host header, which its sender chooses.
    public_url: str = "http://127.0.0.1:8000"
    # Where each instance anchors the audit chain's head outside the database:
    # "file:/absolute/path" (appended to) or "syslog"; None writes no checkpoints.
    audit_checkpoint: str | None = None
    audit_checkpoint_interval_seconds: float = 60.0
    # REGISTRY_CLOCK_FILE: time as the rules see it is moved by the offset in this file
    # (`registry clock`); for acceptance runs and training, never production.
    clock_file: Path | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("REGISTRY_DATA_DIR", "./.registry")).expanduser().resolve()
        settings = cls(
            data_dir=data_dir,
            database_url=env.get("REGISTRY_DATABASE_URL") or None,
            database_app_role=_role(env.get("REGISTRY_DATABASE_APP_ROLE", "")),
            policy_path=Path(env.get("REGISTRY_POLICY", "policies/department.toml")).expanduser().resolve(),
            secret_key=_secret_key(env.get("REGISTRY_SECRET_KEY"), data_dir, env.get("REGISTRY_DATABASE_URL")),
            previous_secret_keys=_previous_keys(env.get("REGISTRY_PREVIOUS_SECRET_KEYS", "")),
            cookie_secure=_flag(env.get("REGISTRY_COOKIE_SECURE", "true"), "REGISTRY_COOKIE_SECURE"),
            log_level=env.get("REGISTRY_LOG_LEVEL", "INFO").upper(),
            jobs_interval_seconds=_seconds(env, "REGISTRY_JOBS_INTERVAL_SECONDS", "60"),
            smtp=_smtp(env),
            public_url=_public_url(env.get("REGISTRY_PUBLIC_URL", "http://127.0.0.1:8000")),
            audit_checkpoint=_checkpoint_sink(env.get("REGISTRY_AUDIT_CHECKPOINT", "")),
            audit_checkpoint_interval_seconds=_seconds(env, "REGISTRY_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "60"),
            clock_file=Path(env["REGISTRY_CLOCK_FILE"]).expanduser().resolve()
            if env.get("REGISTRY_CLOCK_FILE")
            else None,
        )
        return msgspec.structs.replace(settings, **_sizes(env))


_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _role(value: str) -> str | None:
    role = value.strip()
    if not role:
        return None
    if not _ROLE.match(role):
        raise ConfigurationError(
            f"REGISTRY_DATABASE_APP_ROLE must be a plain PostgreSQL role name (lower case, digits, _), not {role!r}"
        )
    return role


def _sizes(env: dict[str, str]) -> dict[str, int]:
    """Counts a container sets because the defaults follow the host: os.cpu_count() is the node's
    cores, not the pod's CPU limit, and each argon2id hash holds `memory_cost` KiB."""
    names = {
        "password_hash_concurrency": "REGISTRY_PASSWORD_HASH_CONCURRENCY",
        "pool_max_size": "REGISTRY_DB_POOL_MAX_SIZE",
    }
    sizes: dict[str, int] = {}
    for field, name in names.items():
        value = env.get(name, "").strip()
        if not value:
            continue
        if not value.isdigit() or int(value) < 1:
            raise ConfigurationError(f"{name} must be a whole number of at least 1, not {value!r}")
        sizes[field] = int(value)
    if sizes.get("pool_max_size", 2) < 2:
        raise ConfigurationError("REGISTRY_DB_POOL_MAX_SIZE must be at least 2 (the pool keeps 2 connections open)")
    return sizes


def _previous_keys(value: str) -> tuple[bytes, ...]:
    parts = [part for part in value.split(",") if part.strip()]
    return tuple(decode_secret_key(part, "each of REGISTRY_PREVIOUS_SECRET_KEYS") for part in parts)


def _checkpoint_sink(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if value == "syslog" or (value.startswith("file:") and Path(value[5:]).is_absolute()):
        return value
    raise ConfigurationError(f"REGISTRY_AUDIT_CHECKPOINT must be file:/absolute/path or syslog, not {value!r}")


def _seconds(env: dict[str, str], name: str, default: str) -> float:
    value = env.get(name, default)
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number of seconds, not {value!r}") from exc
    if number < 0:
        raise ConfigurationError(f"{name} must not be negative")
    return number


def _public_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(
            f"REGISTRY_PUBLIC_URL must be the http(s) address people reach the service at, such as "
            f"https://registry.example.gov, not {value!r}"
        )
    return value.strip().rstrip("/")


def _smtp(env: dict[str, str]) -> SmtpSettings | None:
    host = env.get("REGISTRY_SMTP_HOST", "").strip()
    if not host:
        return None
    sender = env.get("REGISTRY_SMTP_FROM", "").strip()
    if "@" not in sender:
        raise ConfigurationError("REGISTRY_SMTP_FROM must be the sender's email address when REGISTRY_SMTP_HOST is set")
    security = env.get("REGISTRY_SMTP_SECURITY", "starttls").strip().lower()
    if security not in _SMTP_PORTS:
        raise ConfigurationError(f"REGISTRY_SMTP_SECURITY must be starttls, tls or none, not {security!r}")
    username = env.get("REGISTRY_SMTP_USERNAME") or None
    if username and security == "none":
        raise ConfigurationError(
            "REGISTRY_SMTP_USERNAME needs REGISTRY_SMTP_SECURITY starttls or tls: never a clear-text login"
        )
    port = env.get("REGISTRY_SMTP_PORT", str(_SMTP_PORTS[security]))
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(f"REGISTRY_SMTP_PORT must be a port number, not {port!r}")
    return SmtpSettings(
        host=host,
        port=int(port),
        sender=sender,
        security=security,
        username=username,
        password=env.get("REGISTRY_SMTP_PASSWORD") or None,
    )


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")


def decode_secret_key(value: str, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{source} must be URL-safe base64 of at least 32 random bytes") from exc
    if len(key) < 32:
        raise ConfigurationError(f"{source} must decode to at least 32 bytes (it has {len(key)})")
    return key


def new_secret_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _secret_key(value: str | None, data_dir: Path, database_url: str | None) -> bytes:
    if value:
        return decode_secret_key(value, "REGISTRY_SECRET_KEY")
    if database_url:
        # A real database is shared by every instance: a key made up on one host would leave the
        # others unable to read what it wrote. Fail closed.
        raise ConfigurationError("REGISTRY_SECRET_KEY must be set when REGISTRY_DATABASE_URL is")
    # Development only: a key generated once, kept beside the embedded database.
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_secret_key() + "\n")
    return decode_secret_key(path.read_text(), str(path))
