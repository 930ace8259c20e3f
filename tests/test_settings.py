"""Settings a deployment gives through the environment."""

from __future__ import annotations

import pytest

from registry.errors import ConfigurationError
from registry.settings import Settings, new_secret_key


def test_the_app_role_setting_is_a_plain_role_name() -> None:
    key = new_secret_key()
    with pytest.raises(ConfigurationError, match="REGISTRY_DATABASE_APP_ROLE must be a plain PostgreSQL role name"):
        Settings.from_env({"REGISTRY_DATABASE_APP_ROLE": "app; DROP TABLE users", "REGISTRY_SECRET_KEY": key})
    settings = Settings.from_env({"REGISTRY_DATABASE_APP_ROLE": "registry_app", "REGISTRY_SECRET_KEY": key})
    assert settings.database_app_role == "registry_app"


def test_container_sizes_come_from_the_environment() -> None:
    env = {"REGISTRY_SECRET_KEY": new_secret_key()}
    settings = Settings.from_env(env | {"REGISTRY_PASSWORD_HASH_CONCURRENCY": "1", "REGISTRY_DB_POOL_MAX_SIZE": "8"})
    assert (settings.password_hash_concurrency, settings.pool_max_size) == (1, 8)
    with pytest.raises(ConfigurationError, match="REGISTRY_DB_POOL_MAX_SIZE must be a whole number"):
        Settings.from_env(env | {"REGISTRY_DB_POOL_MAX_SIZE": "lots"})
