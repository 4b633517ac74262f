"""Settings fail fast with one line naming the setting; production refuses insecure defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import DEFAULT_SECRET, Config, ConfigError, env_example

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"DATABASE_URL": "postgresql+psycopg://u@localhost/db", "REDIS_URL": "redis://localhost:6379/0"}
PRODUCTION = {
    **GOOD,
    "BAZAAR_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "ADMIN_PASSWORD": "a-real-password",
}


@pytest.mark.parametrize(
    ("environ", "setting"),
    [
        ({"REDIS_URL": GOOD["REDIS_URL"]}, "DATABASE_URL"),
        ({**GOOD, "DATABASE_URL": "postgresql://u@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": GOOD["DATABASE_URL"]}, "REDIS_URL"),
        ({**GOOD, "REDIS_URL": "http://nope"}, "REDIS_URL"),
        ({**GOOD, "DATABASE_POOL_SIZE": "ten"}, "DATABASE_POOL_SIZE"),
        ({**GOOD, "DEBUG": "maybe"}, "DEBUG"),
        ({**GOOD, "JWT_ALGORITHM": "none"}, "JWT_ALGORITHM"),
        ({**GOOD, "JWT_ALGORITHM": "RS256"}, "JWT_PUBLIC_KEYS"),
        ({**GOOD, "PAYMENTS_PROVIDER": "paypal"}, "PAYMENTS_PROVIDER"),
        ({**GOOD, "PAYMENTS_PROVIDER": "stripe"}, "STRIPE_API_KEY"),
        ({**GOOD, "BAZAAR_ENV": "staging"}, "BAZAAR_ENV"),
        ({**PRODUCTION, "SECRET_KEY": DEFAULT_SECRET}, "SECRET_KEY"),
        ({**PRODUCTION, "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({**PRODUCTION, "DEBUG": "true"}, "DEBUG"),
        ({**PRODUCTION, "ADMIN_PASSWORD": "bazaar-staff"}, "ADMIN_PASSWORD"),
        ({**PRODUCTION, "RATELIMIT_ENABLED": "false"}, "RATELIMIT_ENABLED"),
        ({**GOOD, "OFFERS_EXPIRY_SECONDS": "2d"}, "OFFERS_EXPIRY_SECONDS"),
        ({**GOOD, "PAYMENTS_INSPECTION_SECONDS": "3.5"}, "PAYMENTS_INSPECTION_SECONDS"),
        # renamed settings are refused by their old name, never silently ignored
        ({**GOOD, "OFFERS_EXPIRY_HOURS": "48"}, "OFFERS_EXPIRY_HOURS"),
        ({**GOOD, "PAYMENTS_INSPECTION_DAYS": "3"}, "PAYMENTS_INSPECTION_DAYS"),
    ],
)
def test_bad_settings_fail_fast_naming_the_setting(environ, setting):
    with pytest.raises(ConfigError) as excinfo:
        Config(environ)
    message = str(excinfo.value)
    assert message.startswith(f"{setting}:")
    assert "\n" not in message


def test_production_starts_with_real_secrets():
    config = Config(PRODUCTION)
    assert config.BAZAAR_ENV == "production"
    assert PRODUCTION["SECRET_KEY"] == config.JWT_SECRET  # defaults to SECRET_KEY


def test_defaults_and_types():
    config = Config(GOOD)
    assert config.JWT_ACCESS_TTL_SECONDS == 900
    assert config.OFFERS_EXPIRY_SECONDS == 48 * 3600
    assert config.PAYMENTS_INSPECTION_SECONDS == 3 * 24 * 3600
    assert config.WORKER_QUEUES == ["events", "notifications", "imports", "payouts", "default"]
    assert config.SQLALCHEMY_ENGINE_OPTIONS["connect_args"]["options"].startswith("-c search_path=admin")


def test_env_example_is_generated_from_settings_and_committed():
    committed = (ROOT / ".env.example").read_text()
    assert committed.strip() == env_example().strip(), "regenerate: bazaar config example > .env.example"


def test_cli_prints_one_clear_line_on_a_bad_setting():
    bazaar = Path(sys.executable).with_name("bazaar")
    result = subprocess.run(
        [str(bazaar), "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "mysql://nope", "REDIS_URL": GOOD["REDIS_URL"]},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: DATABASE_URL: must start with postgresql+psycopg:// (psycopg 3)"
    )


def test_help_lists_the_app_free_commands_even_without_settings():
    bazaar = Path(sys.executable).with_name("bazaar")
    result = subprocess.run(
        [str(bazaar), "--help"], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("configuration error: DATABASE_URL: not set")
    commands = result.stdout.split("Commands:", 1)[1].split()
    assert {"run", "config", "db", "mail"} <= set(commands)
