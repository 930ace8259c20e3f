from __future__ import annotations

import msgspec


class Condition(msgspec.Struct):
    condition: str
    met: bool
    clause: str
    # What is missing and what to do next, in the detective's words.
    detail: str


class GateOut(msgspec.Struct):
    ready: bool
    conditions: list[Condition]
