"""Key rotation: `registry keys rotate` re-seals a populated database under a new key while
the service runs, and the service then reads everything back with the new key alone."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from registry.cli import main
from registry.crypto import Keyring
from registry.errors import ConfigurationError
from registry.keys.repo import SEALED
from tests.harness import POLICY, SECRET_KEY, World
from tests.lifecycle.setup import Ready, prepare
from tests.personas.helpers import request_persona
from tests.reviews.helpers import commander, completion, only_review

NEW_KEY = b"n" * 32
CONTACT = "jamie.c@example.net"


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


async def rotate_cli(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, *, previous: bytes | None
) -> int:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("REGISTRY_POLICY", str(POLICY))
    monkeypatch.setenv("REGISTRY_SECRET_KEY", b64(NEW_KEY))
    if previous is None:
        monkeypatch.delenv("REGISTRY_PREVIOUS_SECRET_KEYS", raising=False)
    else:
        monkeypatch.setenv("REGISTRY_PREVIOUS_SECRET_KEYS", b64(previous))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return await asyncio.to_thread(main, ["keys", "rotate", "--batch", "2", "--settle-seconds", "0"])


async def populate(world: World) -> tuple[Ready, dict[str, Any]]:
    """Something in every sealed column, through the API."""
    cora, cora_client = await commander(world)
    r = await prepare(world)
    assert (await r.t.dana.post(f"/api/personas/{r.pid}/activate")).status_code == 200
    for summary in ("Joined the resale group; no contact made.", "Read the group's pinned post."):
        body = {
            "occurred_at": world.clock.now().isoformat(),
            "platform_id": r.platform_id,
            "equipment_id": r.device_id,
            "summary": summary,
        }
        assert (await r.t.dana.post(f"/api/personas/{r.pid}/activity", json=body)).status_code == 201
    review = await only_review(cora_client)
    record = completion(
        review,
        world.clock.now().date().isoformat(),
        outcome="corrective_action",
        findings="Tone drifted in one chat.",
        actions=["Re-read 003 IV.B with the supervisor"],
        follow_up_on=(world.clock.now() + timedelta(days=14)).date().isoformat(),
    )
    held = await cora_client.post(f"/api/reviews/{review['id']}/complete", json=record)
    assert held.status_code == 200, held.text
    # One user half-way through enrolling (a pending TOTP secret).
    newcomer = await world.user("nora", "detective", enrolled=False)
    nora = world.client()
    await nora.post("/api/auth/login", json={"username": newcomer.username, "password": newcomer.password})
    assert (await nora.post("/api/auth/mfa/enroll")).status_code == 200
    feed = (await cora_client.post("/api/me/calendar-token")).json()["url"]
    # An account with recovery contacts (blind-indexed for linkage).
    spare = await r.t.dana.post(
        f"/api/personas/{r.pid}/accounts",
        json={"platform_id": r.platform_id, "handle": "jc.spare", "email": CONTACT, "phone": "+1 555 0100"},
    )
    assert spare.status_code == 201, spare.text
    return r, {"review_id": review["id"], "feed": feed, "cora": cora}


async def read_back(world: World, r: Ready, seen: dict[str, Any]) -> dict[str, Any]:
    """Everything populate() sealed, as the API shows it."""
    people = {p.username: p for p in (r.t.detective, seen["cora"])}
    dana = await world.signin(people["dana"])
    cora = await world.signin(people["cora"])
    persona = await dana.get(f"/api/personas/{r.pid}")
    assert persona.status_code == 200, persona.text
    activity = await cora.get(f"/api/personas/{r.pid}/activity")
    review = await cora.get(f"/api/reviews/{seen['review_id']}")
    assert review.status_code == 200, review.text
    feed = await world.client().get(seen["feed"].removeprefix("https://registry.test"))
    clash = await dana.post("/api/deconfliction", json={"alias_name": "jamie calloway"})
    handle = await dana.post("/api/deconfliction", json={"platform_id": r.platform_id, "handle": "@Jamie.Calloway94"})
    body = persona.json()
    return {
        "identity": body["identity"],
        "accounts": [a["handle"] for a in body.get("accounts", [])],
        "activity": sorted(i["summary"] for i in activity.json()["items"]),
        "review": {k: review.json()["record"][k] for k in ("notes", "findings", "actions")},
        "feed": feed.status_code,
        "alias_clash": [c["codename"] for c in clash.json()["conflicts"]],
        "handle_clash": [c["codename"] for c in handle.json()["conflicts"]],
    }


async def test_rotation_reseals_everything_and_the_new_key_alone_reads_it_back(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    r, seen = await populate(world)
    before = await read_back(world, r, seen)
    assert before["alias_clash"] == [r.persona["codename"]] and before["handle_clash"] == [r.persona["codename"]]
    assert before["feed"] == 200
    assert before["review"]["findings"] == "Tone drifted in one chat."
    assert len(before["activity"]) == 2 and before["accounts"] == ["jamie.calloway94", "jc.spare"]

    # Step 1: instances restart with the new key and the old; they keep serving, and write
    # under the new key from then on.
    async with World.open(
        database_url, tmp_path, world.clock.now(), secret_key=NEW_KEY, previous_secret_keys=(SECRET_KEY,)
    ) as during:
        assert await read_back(during, r, seen) == before
        late = await request_persona(await during.signin(r.t.detective), r.t.investigation_id, "Morgan Hale")

        # Step 2: the rotation, while that instance runs.
        assert await rotate_cli(monkeypatch, database_url, tmp_path, previous=SECRET_KEY) == 0
        now = during.clock.now()

    new = Keyring(NEW_KEY)
    for table, column, _ in SEALED:
        values = [bytes(v) for (v,) in await world.db.fetch(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")]
        assert values, f"{table}.{column} was not populated"
        assert all(new.is_current(v) for v in values), f"{table}.{column} holds values under the old key"
    # Blind indexes rebuilt under the new key (the recovery contact's, as linkage looks it up).
    email_index = await world.db.fetchval("SELECT email_index FROM platform_accounts WHERE email_index IS NOT NULL")
    assert bytes(email_index) == new.blind_index(CONTACT, "recovery:email")
    assert [e["outcome"] for e in await world.events("keys.rotated")] == ["success"]
    assert len(await world.events("keys.rotation_started")) == 1

    # Step 3: the new key alone reads everything back, and the old key alone is refused.
    async with World.open(database_url, tmp_path, now, secret_key=NEW_KEY) as after:
        assert await read_back(after, r, seen) == before
        clash = await (await after.signin(r.t.detective)).post("/api/deconfliction", json={"alias_name": "morgan hale"})
        assert [c["codename"] for c in clash.json()["conflicts"]] == [late["codename"]]
        verified = await (await after.signin(await after.user("aud", "auditor"))).get("/api/audit/verify")
        assert verified.json()["ok"] is True
    with pytest.raises(ExceptionGroup) as refused:
        async with World.open(database_url, tmp_path, now):
            pass
    assert refused.group_contains(ConfigurationError, match="does not open this database")


async def test_rotate_needs_the_previous_key_named(
    world: World,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    restore_logging: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await rotate_cli(monkeypatch, database_url, tmp_path, previous=None) == 2
    assert "REGISTRY_PREVIOUS_SECRET_KEYS" in capsys.readouterr().err


async def test_a_key_that_does_not_open_the_database_is_refused_at_start(
    world: World, database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(ExceptionGroup) as refused:
        async with World.open(database_url, tmp_path, world.clock.now(), secret_key=NEW_KEY):
            pass
    assert refused.group_contains(ConfigurationError, match="REGISTRY_SECRET_KEY does not open this database")


async def test_a_database_from_before_the_key_check_is_checked_against_its_data(
    world: World, database_url: str, tmp_path: Path
) -> None:
    await world.user("dana", "detective")  # a sealed TOTP secret
    await world.db.execute("ALTER TABLE keyring DISABLE TRIGGER USER")
    await world.db.execute("DELETE FROM keyring")
    await world.db.execute("ALTER TABLE keyring ENABLE TRIGGER USER")

    with pytest.raises(ExceptionGroup) as refused:
        async with World.open(database_url, tmp_path, world.clock.now(), secret_key=NEW_KEY):
            pass
    assert refused.group_contains(ConfigurationError, match=r"cannot decrypt users\.totp_secret")
    assert await world.db.fetchval("SELECT count(*) FROM keyring") == 0

    async with World.open(database_url, tmp_path, world.clock.now()):
        pass
    assert await world.db.fetchval("SELECT count(*) FROM keyring") == 1


# bytea columns that hold no ciphertext: digests, hashes, blind indexes, the keyring's own.
NOT_SEALED = {
    ("users", "calendar_token"),
    ("recovery_codes", "code_hash"),
    ("enrollment_gates", "code_hash"),
    ("sessions", "token_hash"),
    ("audit_event", "prev_hash"),
    ("audit_event", "hash"),
    ("audit_chain_head", "hash"),
    ("personas", "alias_index"),
    ("platform_accounts", "handle_index"),
    ("platform_accounts", "email_index"),
    ("platform_accounts", "phone_index"),
    ("persona_photos", "file_index"),
    ("persona_photos", "look_index"),
    # Under the stored digest key (registry.equipment.service.egress_digest): survives as is.
    ("isolation_inspections", "egress_index"),
    ("keyring", "digest_key"),
    ("keyring", "index_key_id"),
}


async def test_every_binary_column_is_known_to_the_rotation(world: World) -> None:
    rows = await world.db.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type = 'bytea'"
    )
    found = {(r["table_name"], r["column_name"]) for r in rows}

    # A new encrypted column goes in registry.keys.repo.SEALED, or rotation leaves it behind.
    assert found - NOT_SEALED == {(table, column) for table, column, _ in SEALED}
