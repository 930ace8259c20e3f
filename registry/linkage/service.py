"""The blast radius of a burned persona: every live persona that shares a link with it, for the
supervisor to assess (keep, suspend, retire) with a reason. Reports and decisions are audited;
they carry codenames, asset tags and platform names, never an identity."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from uuid import UUID

import asyncpg
import msgspec

from registry.audit.actions import Action
from registry.audit.service import record
from registry.errors import Forbidden, Invalid, InvalidTransition, NotFound
from registry.lifecycle import gate, steps
from registry.linkage import repo, warnings
from registry.linkage.schemas import (
    MAX_PHOTO_BYTES,
    AssessmentIn,
    AssessmentOut,
    LinkageReport,
    Linked,
    PhotoIn,
    PhotoOut,
)
from registry.personas.lookup import visible_persona
from registry.personas.schemas import ReasonIn
from registry.runtime import RequestContext, Runtime
from registry.status import PersonaStatus


def _fingerprints(runtime: Runtime, data: PhotoIn) -> tuple[bytes, bytes]:
    """Keyed digests of the file's SHA-256 and of its perceptual hash; the image is not kept."""
    # Loaded on first use: numpy and the imaging libraries would cost every worker ~40 MB.
    import imagehash
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs
    try:
        content = base64.b64decode(data.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("content_base64 must be the photo file in base64.", field="content_base64") from exc
    if len(content) > MAX_PHOTO_BYTES:
        raise Invalid(f"The photo must be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MiB.", field="content_base64")
    try:
        with Image.open(io.BytesIO(content)) as image:
            look = str(imagehash.phash(image.convert("RGB")))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Invalid("content_base64 is not an image file (JPEG, PNG, WebP, GIF…).", field="content_base64") from exc
    file_digest = runtime.keyring.digest(f"photo-file:{hashlib.sha256(content).hexdigest()}")
    return file_digest, runtime.keyring.digest(f"photo-look:{look}")


async def add_photo(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID, data: PhotoIn
) -> PhotoOut:
    """The handler records a photo the persona uses: its fingerprints, and a warning when a
    burned or another persona uses the same photo or one that looks the same."""
    persona = await visible_persona(conn, runtime, ctx, persona_id)
    if persona["handler_id"] != ctx.me.id:
        raise Forbidden("Only the persona's handler records its photos.")
    if persona["status"] in PersonaStatus.closed():
        raise InvalidTransition(f"The persona is {persona['status']}; its record is closed.")
    file_index, look_index = _fingerprints(runtime, data)
    found = warnings.photo(await repo.photo_matches(conn, persona_id, file_index, look_index))
    photo_id = await repo.add_photo(conn, persona_id, file_index, look_index, ctx.me.id, ctx.now)
    await record(
        conn,
        ctx,
        Action.PERSONA_PHOTO_ADD,
        target_type="persona",
        target_id=persona_id,
        details={"codename": persona["codename"], "photo_id": str(photo_id), "warnings": len(found)},
    )
    return PhotoOut(id=photo_id, persona_id=persona_id, warnings=found)


async def _may_assess(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> None:
    gate.require(await gate.facts(conn, runtime, ctx, persona_id), "assess_linkage", runtime, ctx, "be assessed")


async def report(conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, persona_id: UUID) -> LinkageReport:
    """Every live persona sharing a device, a recovery contact, a photo, an egress, or the
    handler on a platform with this one; an audited read."""
    persona = await visible_persona(conn, runtime, ctx, persona_id)
    await _may_assess(conn, runtime, ctx, persona_id)
    rows = await repo.linked(conn, persona_id, ctx.me.id, runtime.permissions.unit_wide_roles)
    linked = [
        msgspec.convert(
            {
                "persona_id": r["id"],
                "codename": r["codename"],
                "status": r["status"],
                "links": sorted(r["links"], key=lambda link: (link["kind"], link["detail"])),
                "assessment": r["assessment"],
            },
            Linked,
        )
        for r in rows
    ]
    await record(
        conn,
        ctx,
        Action.PERSONA_LINKAGE_READ,
        target_type="persona",
        target_id=persona_id,
        details={"codename": persona["codename"], "linked": [x.codename for x in linked]},
    )
    return LinkageReport(persona_id=persona_id, codename=persona["codename"], status=persona["status"], linked=linked)


async def assess(
    conn: asyncpg.Connection,
    runtime: Runtime,
    ctx: RequestContext,
    persona_id: UUID,
    other_id: UUID,
    data: AssessmentIn,
) -> AssessmentOut:
    """The supervisor decides on one linked persona: keep it in use, suspend it, or retire it,
    through the same lifecycle steps the API offers, with the reason recorded."""
    burned = await visible_persona(conn, runtime, ctx, persona_id)
    await _may_assess(conn, runtime, ctx, persona_id)
    found = next(
        (
            r
            for r in await repo.linked(conn, persona_id, ctx.me.id, runtime.permissions.unit_wide_roles)
            if r["id"] == other_id
        ),
        None,
    )
    if found is None:
        raise NotFound(f"No live persona you may see is linked to {burned['codename']} by that id.")
    reason = ReasonIn(reason=f"Linked to {burned['codename']} ({data.decision}): {data.reason}")
    if data.decision == "suspend" and found["status"] in PersonaStatus.suspendable():
        await steps.suspend(conn, runtime, ctx, other_id, reason)
    elif data.decision == "retire":
        await steps.retire(conn, runtime, ctx, other_id, reason)
    assessment_id = await repo.assess(
        conn, persona_id, other_id, data.decision, data.reason, list(found["links"]), ctx.me.id, ctx.now
    )
    await record(
        conn,
        ctx,
        Action.PERSONA_LINKAGE_ASSESS,
        target_type="persona",
        target_id=other_id,
        details={"codename": found["codename"], "burned": burned["codename"], "decision": data.decision},
    )
    now = await gate.facts(conn, runtime, ctx, other_id)
    return AssessmentOut(
        id=assessment_id, linked_id=other_id, codename=found["codename"], decision=data.decision, status=now["status"]
    )
