"""The department's policy file: the shipped one loads, a bad one stops start-up naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.app import create_app
from registry.errors import ConfigurationError
from registry.permissions import RolePermissions
from registry.policy import ROLES, load_policy
from registry.settings import Settings
from tests.harness import POLICY, SECRET_KEY, TEST_HASH

SHIPPED = POLICY.read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "department.toml"
    path.write_text(text)
    return path


def edited(old: str, new: str) -> str:
    assert old in SHIPPED
    return SHIPPED.replace(old, new)


def test_the_shipped_policy_loads() -> None:
    policy = load_policy(POLICY)

    assert policy.security.lockout_threshold == 5
    assert policy.security.lockout_minutes == 30
    assert policy.security.session_idle_minutes == 30
    assert policy.security.session_absolute_hours == 12
    assert policy.personas.overdue_review_action in {"suspend", "report"}
    assert policy.audit.retention_years >= 1
    for role in (
        policy.placeholders.authorizes_false_identities,
        policy.placeholders.authorizes_sites,
        policy.placeholders.approves_identity_details,
        policy.placeholders.holds_conduct_reviews,
    ):
        assert role in ROLES
    RolePermissions(policy)  # every placeholder maps onto a role we grant from


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (edited("lockout_threshold = 5", 'lockout_threshold = "five"'), "security.lockout_threshold"),
        (edited("lockout_threshold = 5", "lockout_threshold = 50"), "security.lockout_threshold"),
        (edited("lockout_threshold = 5", "lockout_threshold = 5\nlockout_treshold = 5"), "security.lockout_treshold"),
        (edited("lockout_threshold = 5\n", ""), "security.lockout_threshold"),
        (
            edited('holds_conduct_reviews = "commander"', 'holds_conduct_reviews = "chief"'),
            "placeholders.holds_conduct_reviews",
        ),
        (SHIPPED[: SHIPPED.index("[audit]")], "audit"),
        (edited("[audit]", "[extra]\nfoo = 1\n\n[audit]"), "extra"),
        (edited("session_idle_minutes = 30", "session_idle_minutes = 800"), "security.session_idle_minutes"),
        (edited("review_interval_days = 30", "review_interval_days = 365"), "personas.review_interval_days"),
        (edited('time_zone = "UTC"', 'time_zone = "Mars/Olympus_Mons"'), "department.time_zone"),
    ],
    ids=[
        "wrong-type",
        "out-of-range",
        "unknown-key",
        "missing-key",
        "unknown-role",
        "missing-section",
        "unknown-section",
        "idle-beyond-absolute",
        "review-beyond-approval",
        "unknown-time-zone",
    ],
)
def test_an_invalid_policy_is_refused_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigurationError) as refused:
        load_policy(path)

    assert key in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_policy_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_policy(write(tmp_path, "[security\nlockout_threshold = 5"))


def test_a_missing_policy_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="REGISTRY_POLICY"):
        load_policy(tmp_path / "nowhere.toml")


def test_the_service_does_not_start_with_an_invalid_policy(tmp_path: Path) -> None:
    path = write(tmp_path, edited("lockout_threshold = 5", 'lockout_threshold = "five"'))
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql://unused.invalid/none",
        policy_path=path,
        secret_key=SECRET_KEY,
        password_hash=TEST_HASH,
    )

    with pytest.raises(ConfigurationError, match=r"security\.lockout_threshold"):
        create_app(settings)


def test_a_placeholder_cannot_go_to_a_role_not_cleared_for_it(tmp_path: Path) -> None:
    text = POLICY.read_text().replace('holds_conduct_reviews = "commander"', 'holds_conduct_reviews = "administrator"')
    path = tmp_path / "department.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match="holds_conduct_reviews"):
        load_policy(path)


def test_a_database_url_without_a_secret_key_is_refused(tmp_path: Path) -> None:
    env = {"REGISTRY_DATABASE_URL": "postgresql://db/registry", "REGISTRY_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigurationError, match="REGISTRY_SECRET_KEY"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "REGISTRY_SMTP_FROM"),
        ({"REGISTRY_SMTP_FROM": "registry@police.example", "REGISTRY_SMTP_SECURITY": "ssl3"}, "starttls, tls or none"),
        ({"REGISTRY_SMTP_FROM": "registry@police.example", "REGISTRY_SMTP_PORT": "99999"}, "REGISTRY_SMTP_PORT"),
        (
            {
                "REGISTRY_SMTP_FROM": "registry@police.example",
                "REGISTRY_SMTP_SECURITY": "none",
                "REGISTRY_SMTP_USERNAME": "registry",
            },
            "clear-text login",
        ),
    ],
)
def test_unworkable_mail_settings_are_refused_by_name(tmp_path: Path, extra: dict[str, str], message: str) -> None:
    env = {"REGISTRY_DATA_DIR": str(tmp_path), "REGISTRY_SMTP_HOST": "mail.police.example"} | extra
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_mail_settings_default_to_submission_with_starttls(tmp_path: Path) -> None:
    env = {
        "REGISTRY_DATA_DIR": str(tmp_path),
        "REGISTRY_SMTP_HOST": "mail.police.example",
        "REGISTRY_SMTP_FROM": "registry@police.example",
    }
    smtp = Settings.from_env(env).smtp
    assert smtp is not None
    assert (smtp.port, smtp.security) == (587, "starttls")
    assert Settings.from_env({"REGISTRY_DATA_DIR": str(tmp_path)}).smtp is None
