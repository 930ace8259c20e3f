"""Codenames: the only name of a persona that leaves the confidential zone. Generated ones
are two unrelated words and a number, meaningless by design."""

from __future__ import annotations

import secrets

_FIRST = (
    "AMBER",
    "ARCTIC",
    "ASHEN",
    "BRASS",
    "CEDAR",
    "CINDER",
    "COBALT",
    "COPPER",
    "CRIMSON",
    "DUSK",
    "EMBER",
    "FALLOW",
    "FLINT",
    "FROST",
    "GRANITE",
    "HAZEL",
    "INDIGO",
    "IVORY",
    "JADE",
    "JUNIPER",
    "LINEN",
    "MAPLE",
    "MARBLE",
    "MOSS",
    "NORTH",
    "OCHRE",
    "ONYX",
    "PEWTER",
    "QUARTZ",
    "RAVEN",
    "RUSSET",
    "SABLE",
    "SAFFRON",
    "SILVER",
    "SLATE",
    "SPRUCE",
    "TAWNY",
    "UMBER",
    "VELVET",
    "WILLOW",
)
_SECOND = (
    "ANCHOR",
    "ARROW",
    "BADGER",
    "BEACON",
    "BRIDGE",
    "CANYON",
    "COMET",
    "COMPASS",
    "CROSSING",
    "DELTA",
    "FALCON",
    "FERRY",
    "GARDEN",
    "HARBOR",
    "HERON",
    "HOLLOW",
    "ISLAND",
    "KESTREL",
    "LANTERN",
    "LEDGER",
    "MEADOW",
    "MERIDIAN",
    "ORCHARD",
    "OTTER",
    "PASSAGE",
    "PILOT",
    "PRAIRIE",
    "QUARRY",
    "RIDGE",
    "RIVER",
    "SPARROW",
    "SUMMIT",
    "TIMBER",
    "TRAIL",
    "VALLEY",
    "VESSEL",
    "WHARF",
    "WILLET",
    "WREN",
    "ZEPHYR",
)


def generate() -> str:
    return f"{secrets.choice(_FIRST)}-{secrets.choice(_SECOND)}-{secrets.randbelow(90) + 10}"


def normalize(given: str) -> str:
    return "-".join(given.upper().replace("-", " ").split())
