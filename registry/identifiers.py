"""How the registry compares names a person could make look alike: aliases, handles and
codenames are compared by their UTS #39 confusable skeleton (ICU's SpoofChecker), after
Unicode compatibility folding, with invisible format characters removed and case and spacing
ignored. "Mаrta" with a Cyrillic а, or "Mar\u200bta" with a zero-width space, is "Marta"."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

_WORD = re.compile(r"\w+")


@cache
def _checker() -> Any:
    # Loaded on first use: ICU's data costs a worker about 19 MB it needs only for names.
    import icu

    return icu.SpoofChecker()


def _visible(value: str) -> str:
    text = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def skeleton(value: str) -> str:
    text = " ".join(_visible(value).casefold().split())
    folded: str = _checker().getSkeleton(0, text)
    return " ".join(folded.casefold().split())


def spells(codename: str, alias: str, shortest: int = 3) -> str | None:
    """A word of the alias (of at least `shortest` letters) that the codename spells out,
    compared by skeleton and ignoring the codename's separators; None if there is none.
    Codenames travel to calendars, mail and logs: they must not carry the alias."""
    joined = "".join(_WORD.findall(skeleton(codename)))
    found: list[str] = _WORD.findall(_visible(alias))
    for word in found:
        if len(word) >= shortest and "".join(_WORD.findall(skeleton(word))) in joined:
            return word
    return None
