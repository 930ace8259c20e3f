"""CSV that is safe to open in a spreadsheet: a cell a spreadsheet would run as a formula (one
starting with `=`, `+`, `-`, `@`, a tab or a carriage return; OWASP "CSV injection") is written
as text, behind a quote mark. Names and reasons people typed reach exports (the audit log's,
the central record's), so every export writes through this."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA) else value


class Writer:
    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([_cell(value) for value in row])
