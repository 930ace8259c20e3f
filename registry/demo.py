"""A demo department for trying the registry: one user per role, a known passphrase, and
authenticators already enrolled so `registry demo codes` can print each user's current code.

Never run this against a real department's database: it creates accounts with a published
password. It refuses to seed a database that already has users it did not create."""

from __future__ import annotations

import msgspec

from registry.audit.service import record
from registry.auth import repo as auth_repo
from registry.auth import totp
from registry.demo_case import seed_case
from registry.runtime import RequestContext, Runtime
from registry.users import service as users
from registry.users.schemas import UserCreate

PASSWORD = "harbor lantern quietly folding"  # noqa: S105 - published on purpose
USERS: list[tuple[str, str, str]] = [
    ("detective", "Dana Rivera", "detective"),
    ("detective2", "Omar Haddad", "detective"),
    ("supervisor", "Sam Okafor", "supervisor"),
    ("chief", "Alex Moreau", "authorizing_official"),
    ("commander", "Casey Lindqvist", "commander"),
    ("equipment", "Eli Novak", "equipment_officer"),
    ("legal", "Lee Tanaka", "legal"),
    ("auditor", "Ava Brennan", "auditor"),
    ("admin", "Adrian Cole", "administrator"),
    ("ia", "Ines Alvarez", "internal_affairs"),
]


async def seed(runtime: Runtime, ctx: RequestContext) -> None:
    secrets: dict[str, str] = {}
    async with runtime.db_pool().acquire() as conn, conn.transaction():
        seeded = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM audit_event WHERE action = 'demo.seed')")
        if not seeded:
            if await conn.fetchval("SELECT count(*) FROM users"):
                raise SystemExit("registry demo: this database already has users; the demo seeds only an empty one")
            for username, name, role in USERS:
                data = msgspec.convert(
                    {"username": username, "display_name": name, "roles": [role], "password": PASSWORD},
                    UserCreate,
                )
                user = await users.insert(conn, ctx, data, await users.hash_new_password(runtime, data))
                secret = secrets[username] = totp.new_secret()
                blob = runtime.keyring.encrypt(secret, f"users.totp_pending:{user.id}")
                await auth_repo.set_pending_totp(conn, user.id, blob, ctx.now)
                sealed = runtime.keyring.encrypt(secret, f"users.totp_secret:{user.id}")
                await auth_repo.confirm_totp(conn, user.id, sealed, 0, ctx.now)
            await record(conn, ctx, "demo.seed", details={"users": len(USERS)})
    if secrets:
        await seed_case(runtime.settings, secrets, PASSWORD)
    print("Demo department ready" + (" (already seeded; data kept)." if seeded else "."))
    print(f"Every demo user's password: {PASSWORD}")
    print(f"{'username':<12} {'role':<22} name")
    for username, name, role in USERS:
        print(f"{username:<12} {role:<22} {name}")
    print("Case 2026-0142: HARBOR-KITE is active with its conduct review due; a second persona awaits approval.")
    print("Authenticator codes: run `.venv/bin/registry demo codes` in another terminal (same directory).")


async def print_codes(runtime: Runtime) -> None:
    async with runtime.db_pool().acquire() as conn:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM audit_event WHERE action = 'demo.seed')"):
            raise SystemExit("registry demo codes: this database was not seeded by `registry demo`")
        rows = await conn.fetch(
            "SELECT id, username, totp_secret FROM users WHERE username = ANY($1) AND totp_secret IS NOT NULL "
            "ORDER BY username",
            [u[0] for u in USERS],
        )
    now = runtime.clock.now()
    remaining = totp.STEP_SECONDS - int(now.timestamp()) % totp.STEP_SECONDS
    print(f"Current codes (valid about {remaining} s more; each works once):")
    for row in rows:
        secret = runtime.keyring.decrypt(bytes(row["totp_secret"]), f"users.totp_secret:{row['id']}")
        print(f"  {row['username']:<12} {totp.code_at(secret, now)}")
