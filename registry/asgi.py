"""The ASGI app for `registry serve` workers (uvicorn imports this as a factory)."""

from __future__ import annotations

from litestar import Litestar

from registry.app import create_app
from registry.observability import configure_logging
from registry.settings import Settings


def app() -> Litestar:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings)
