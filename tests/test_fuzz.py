"""A schema-driven fuzzer over the whole API: Schemathesis makes requests from the OpenAPI
document the service serves, and each is sent as every role and with no session, in a world
with real records so path ids reach them. No answer may be a 5xx, break the document, or carry
a status the document does not list for that operation.

Bounded and deterministic: a few derandomized examples per operation (the same for every
caller), generation only (no shrinking, no example database)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.harness import Person, World
from tests.lifecycle.setup import prepare
from tests.openapi_client import broken, send
from tests.personas.helpers import request_persona

EXAMPLES = 4
# Values the document allows, and values it does not (which must be refused with a documented 4xx).
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
ROLES = (
    "detective",
    "supervisor",
    "authorizing_official",
    "commander",
    "equipment_officer",
    "legal",
    "auditor",
    "administrator",
    "internal_affairs",
)


def _cases(operation: Any, path_parameters: dict[str, str], mode: GenerationMode) -> list[Any]:
    found: list[Any] = []
    strategy = operation.as_strategy(mode, path_parameters=path_parameters or None)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(case: Any) -> None:
        found.append(case)

    # Nothing in some operations can be made invalid (no body, no parameters).
    with contextlib.suppress(Unsatisfiable):
        collect()
    return found


@dataclass
class Caller:
    name: str
    client: httpx.AsyncClient
    person: Person | None = None
    # Signed in with the password only (the sign-in routes' own callers), or all the way.
    password_only: bool = False
    signed_in_before: bool = False
    failures: list[str] = field(default_factory=list)

    async def sign_in(self, world: World) -> None:
        assert self.person is not None
        if not self.password_only:
            await world.signin(self.person, self.client)
            return
        if self.signed_in_before:
            # Wrong codes fuzzed at this person may have locked them out: a new one takes over.
            username = f"{self.person.username.split('.')[0]}.{uuid.uuid4().hex[:8]}"
            self.person = await world.user(username, "detective", enrolled=self.person.secret is not None)
        self.signed_in_before = True
        login = {"username": self.person.username, "password": self.person.password}
        response = await self.client.post("/api/auth/login", json=login)
        assert response.status_code == 200, response.text

    async def signed_out(self) -> bool:
        """Whether a fuzzed request (a logout, a lockout) ended the caller's session."""
        if self.person is None:
            return False
        if self.password_only:
            # Any sign-in route answers 401 without a password-verified session.
            return (await self.client.post("/api/auth/mfa/enroll")).status_code == 401
        return (await self.client.get("/api/me")).status_code == 401


async def _world_ids(world: World, people: dict[str, Person]) -> dict[str, str]:
    """Real records for every path parameter the document names."""
    r = await prepare(world)
    other = await request_persona(r.t.dana, r.t.investigation_id, "Robin Ashcombe")
    admin = await world.signin(people["administrator"])
    # A pending grant (a role that reads identities takes a second person) and an account to
    # act on that no caller uses, so fuzzing it cannot lock a caller out.
    response = await admin.post(
        "/api/users",
        json={
            "username": "vic",
            "display_name": "Vic",
            "roles": ["detective"],
            "password": "plum kettle harbor seventeen",
        },
    )
    assert response.status_code == 202, response.text
    unit = await admin.post("/api/units", json={"name": "Online Unit"})
    assert unit.status_code == 201, unit.text
    commander = await world.signin(people["commander"])
    grants = (await commander.get("/api/role-grants")).json()["items"]
    reviews = (await r.t.sam.get("/api/reviews")).json()
    token = await r.t.sam.post("/api/me/calendar-token")
    assert grants and reviews and token.status_code == 201, (grants, reviews, token.text)
    return {
        "persona_id": r.pid,
        "other_id": str(other["id"]),
        "investigation_id": r.t.investigation_id,
        "account_id": r.account_id,
        "platform_id": r.platform_id,
        "equipment_id": r.device_id,
        "user_id": str(response.json()["user_id"]),
        "grant_id": str(grants[0]["id"]),
        "review_id": str(reviews[0]["id"]),
        "feed_name": token.json()["url"].rsplit("/", 1)[-1],
        "unit_id": unit.json()["id"],
    }


async def test_every_operation_as_every_role_answers_as_documented(world: World) -> None:
    document = (await world.client().get("/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    people = {role: await world.user(f"fuzz_{role}", role) for role in ROLES}
    ids = await _world_ids(world, people)
    callers = [Caller("no session", world.client("203.0.113.9"))]
    for index, (role, person) in enumerate(people.items()):
        callers.append(Caller(role, world.client(f"198.51.100.{20 + index}"), person))
    # Halfway through sign-in: an enrolled detective with a code still to send, and one with an
    # authenticator still to enroll.
    halfway = [("password only", await world.user("fuzz_half", "detective"))]
    halfway.append(("not enrolled", await world.user("fuzz_new", "detective", enrolled=False)))
    for index, (name, person) in enumerate(halfway):
        callers.append(Caller(name, world.client(f"198.51.100.{40 + index}"), person, password_only=True))
    for caller in callers[1:]:
        await caller.sign_in(world)

    operations = [result.ok() for result in schema.get_all_operations()]
    sent = 0
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        real = {n: ids[n] for n in names & ids.keys()}
        assert names <= real.keys(), f"no record for {names - real.keys()} in {operation.path}"
        cases = [case for mode in MODES for case in await asyncio.to_thread(_cases, operation, real, mode)]
        for caller in callers:
            for case in cases:
                response = await send(caller.client, case)
                sent += 1
                if problems := broken(case, response):
                    caller.failures.append(
                        f"{operation.method.upper()} {operation.path} -> {response.status_code}: "
                        f"{'; '.join(problems)} :: {response.text[:200]}"
                    )
            # A caller a fuzzed request signed out (logout) signs in again for the next operation.
            if await caller.signed_out():
                await caller.sign_in(world)

    report = [f"[{c.name}] {f}" for c in callers for f in c.failures]
    assert sent > len(operations) * len(callers), "the fuzzer sent almost nothing"
    assert not report, f"{len(report)} of {sent} answers broke the document:\n" + "\n".join(report[:80])
