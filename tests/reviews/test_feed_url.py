"""The secret feed URL names the configured public address, never one a request brought along
in its Host header (issue 11.13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.errors import ConfigurationError
from registry.settings import Settings
from tests.harness import BASE_URL, World
from tests.reviews.helpers import commander
from tests.web.pages import csrf_token


async def test_a_forged_host_header_does_not_end_up_in_the_feed_url(world: World) -> None:
    _, cora = await commander(world)

    response = await cora.post("/api/me/calendar-token", headers={"host": "evil.example"})

    assert response.status_code == 201
    url = response.json()["url"]
    assert url.startswith(f"{BASE_URL}/calendar/")
    assert "evil.example" not in url


async def test_the_feed_page_gives_the_configured_address_too(world: World) -> None:
    _, cora = await commander(world)
    token = await csrf_token(cora, "/reviews/feed")

    response = await cora.post("/reviews/feed", data={"_csrf_token": token}, headers={"host": "evil.example"})

    assert response.status_code == 200, response.text
    assert "evil.example" not in response.text
    assert f"{BASE_URL}/calendar/" in response.text


@pytest.mark.parametrize("value", ["registry.example.gov", "ftp://registry.example.gov", "https://", "https://x/?a=1"])
def test_a_public_url_that_is_no_http_address_stops_the_service(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="REGISTRY_PUBLIC_URL"):
        Settings.from_env({"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_PUBLIC_URL": value})


def test_the_public_url_is_read_from_the_environment(tmp_path: Path) -> None:
    env = {"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_PUBLIC_URL": "https://registry.example.gov/"}
    assert Settings.from_env(env).public_url == "https://registry.example.gov"
