"""Recording a conduct review acts on the personas it covers through the lifecycle's own steps
(an outcome `suspend` or `terminate` is the same step a supervisor takes)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from registry.lifecycle import steps
from registry.reviews import service as reviews
from registry.reviews.schemas import Complete, Completed
from registry.runtime import RequestContext, Runtime


async def complete(
    conn: asyncpg.Connection, runtime: Runtime, ctx: RequestContext, review_id: UUID, data: Complete
) -> Completed:
    return await reviews.complete(conn, runtime, ctx, review_id, data, suspend=steps.suspend, retire=steps.retire)
