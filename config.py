"""Settings from the environment (12-factor).

Every setting has a documented default that works for a local run; production mode
(``BAZAAR_ENV=production``) refuses to start with a default secret or with debug on.
A bad value stops the process with one line naming the setting (:class:`ConfigError`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - the value production refuses

DOMAINS: tuple[str, ...] = (
    "auth",
    "listings",
    "messaging",
    "offers",
    "payments",
    "disputes",
    "verification",
    "shipping",
    "pricing",
    "fraud",
    "notifications",
)
# Schemas that are not domains: Flask-AppBuilder's staff tables and the platform's own (outbox, audit...).
PLATFORM_SCHEMAS: tuple[str, ...] = ("admin", "platform")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    doc: str
    cast: str = "str"  # str | int | bool | float | list


# The one list of settings: .env.example and the docs are generated from it (``bazaar config``).
SETTINGS: tuple[Setting, ...] = (
    Setting("BAZAAR_ENV", "development", "development | test | production"),
    Setting("DEBUG", False, "Flask debug mode; refused in production", "bool"),
    Setting("SECRET_KEY", DEFAULT_SECRET, "Flask session/CSRF secret; must be set in production"),
    Setting("DATABASE_URL", "", "postgresql+psycopg:// URL; empty = embedded PostgreSQL under ./var (run only)"),
    Setting("DATABASE_POOL_SIZE", 10, "SQLAlchemy pool size per process", "int"),
    Setting("DATABASE_AUTOCOMMIT_POOL_SIZE", 10, "Autocommit connections per process (one-statement hot paths)", "int"),
    Setting("REDIS_URL", "", "redis:// URL; empty = embedded Redis under ./var (run only)"),
    Setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "Base URL printed and used in links (emails, webhooks)"),
    Setting("LOG_LEVEL", "INFO", "Python log level"),
    Setting("LOG_JSON", True, "Structured JSON logs (false = plain text for a terminal)", "bool"),
    Setting("JWT_ALGORITHM", "HS256", "HS256 | RS256"),
    Setting("JWT_SECRET", "", "HS256 signing key; defaults to SECRET_KEY"),
    Setting("JWT_PRIVATE_KEY", "", "RS256 PEM private key (issuer only)"),
    Setting("JWT_PUBLIC_KEYS", "", "RS256 verification keys as kid=path-to-pem pairs, comma separated"),
    Setting("JWT_KID", "k1", "Key id written into issued tokens (rotation)"),
    Setting("JWT_PREVIOUS_SECRETS", "", "HS256 retired keys still accepted, as kid=secret pairs"),
    Setting("JWT_ISSUER", "bazaar", "iss claim"),
    Setting("JWT_AUDIENCE", "bazaar-api", "aud claim"),
    Setting("JWT_ACCESS_TTL_SECONDS", 900, "Access token lifetime", "int"),
    Setting("JWT_REFRESH_TTL_SECONDS", 2592000, "Refresh token lifetime", "int"),
    Setting("RATELIMIT_DEFAULT", "300/minute", "Default limit per client (IP or user)"),
    Setting("RATELIMIT_ENABLED", True, "Turn rate limiting off (never in production)", "bool"),
    Setting("MAX_CONTENT_LENGTH", 52428800, "Largest request body in bytes (bulk import: 50 MB)", "int"),
    Setting("CORS_ORIGINS", "", "Comma separated origins allowed for browser clients"),
    Setting("TRUSTED_PROXY_COUNT", 0, "Reverse proxies in front (X-Forwarded-For hops trusted for client IPs)", "int"),
    # Stricter limits against brute force (per IP, and per target account where the route names one).
    Setting("RATELIMIT_AUTH_LOGIN", "10/minute;100/hour", "Login attempts per IP"),
    Setting("RATELIMIT_AUTH_LOGIN_ACCOUNT", "5/minute;30/hour", "Login attempts per target email"),
    Setting("RATELIMIT_AUTH_SIGNUP", "5/minute;50/hour", "Sign-ups per IP"),
    Setting("RATELIMIT_AUTH_PASSWORD", "5/minute;20/hour", "Password reset requests/uses per IP and per email"),
    Setting("RATELIMIT_AUTH_MFA", "5/minute;30/hour", "MFA code attempts per IP and per user"),
    Setting("RATELIMIT_ROUTES", "", "Per-route overrides: space separated endpoint=limit pairs (auth.login=3/minute)"),
    # argon2id cost (OWASP's m=19 MiB, t=2, p=1 profile): it dominates login latency; see bench/auth.py.
    Setting("ARGON2_TIME_COST", 2, "argon2id iterations", "int"),
    Setting("ARGON2_MEMORY_KIB", 19456, "argon2id memory in KiB", "int"),
    Setting("ARGON2_PARALLELISM", 1, "argon2id lanes", "int"),
    Setting("AUTH_VERIFY_EMAIL_TTL_SECONDS", 172800, "Email verification token lifetime", "int"),
    Setting("AUTH_RESET_PASSWORD_TTL_SECONDS", 3600, "Password reset token lifetime", "int"),
    Setting("AUTH_MFA_PENDING_TTL_SECONDS", 300, "Lifetime of the token between password and TOTP steps", "int"),
    Setting("AUTH_TOTP_ISSUER", "Bazaar", "Issuer shown by authenticator apps"),
    # Offers (blueprints/offers): platform defaults under category and listing policies.
    Setting("OFFERS_EXPIRY_SECONDS", 172800, "An offer or counter-offer left unanswered this long expires", "int"),
    Setting("OFFERS_CHECKOUT_MINUTES", 30, "Accepted offers lapse unless payment is held within this window", "int"),
    Setting("OFFERS_MAX_COUNTER_ROUNDS", 5, "Counter-offers per negotiation (both parties together)", "int"),
    Setting("OFFERS_MAX_OPEN_PER_BUYER", 1, "Open negotiations one buyer may have on one listing", "int"),
    Setting("OFFERS_MAX_DAILY_PER_BUYER", 30, "Negotiations one buyer may start in 24 hours (anti-spam)", "int"),
    Setting("PAYMENTS_PROVIDER", "sandbox", "sandbox | stripe"),
    Setting("STRIPE_API_KEY", "", "Stripe secret key (provider=stripe)"),
    Setting("STRIPE_WEBHOOK_SECRET", "", "Stripe webhook signing secret"),
    Setting("STRIPE_API_BASE", "", "Override the Stripe API address (localstripe in tests)"),
    Setting("PAYMENTS_BUYER_FEE_BPS", 500, "Buyer protection fee on top of the item price, basis points", "int"),
    Setting("PAYMENTS_PLATFORM_FEE_BPS", 1000, "Seller commission taken at escrow release, basis points", "int"),
    Setting("PAYMENTS_CHECKOUT_MINUTES", 30, "An unpaid payment expires after this many minutes", "int"),
    Setting(
        "PAYMENTS_INSPECTION_SECONDS", 259200, "Seconds after delivery (or shipping) before escrow auto-releases", "int"
    ),
    Setting("PAYMENTS_PAYOUT_MINIMUM", 100, "Smallest payable balance, in minor units, that a payout sends", "int"),
    Setting("PAYMENTS_PAYOUT_MAX_ATTEMPTS", 6, "Transfer attempts of a payout before it is marked failed", "int"),
    Setting("SMTP_HOST", "127.0.0.1", "SMTP server for email notifications"),
    Setting("SMTP_PORT", 1025, "SMTP port", "int"),
    Setting("SMTP_USER", "", "SMTP user (empty = no AUTH)"),
    Setting("SMTP_PASSWORD", "", "SMTP password"),
    Setting("SMTP_STARTTLS", False, "Use STARTTLS", "bool"),
    Setting("MAIL_FROM", "Bazaar <no-reply@bazaar.local>", "From address of outgoing mail"),
    Setting("SMS_PROVIDER", "log", "log | twilio"),
    Setting("PUSH_PROVIDER", "log", "log | fcm"),
    # Notifications (blueprints/notifications): providers, delivery batches, retries, digests.
    Setting("SMTP_TIMEOUT_SECONDS", 30, "Timeout of one SMTP command", "int"),
    Setting("TWILIO_API_BASE", "https://api.twilio.com", "Twilio REST API address (SMS_PROVIDER=twilio)"),
    Setting("TWILIO_ACCOUNT_SID", "", "Twilio account SID"),
    Setting("TWILIO_AUTH_TOKEN", "", "Twilio auth token"),
    Setting("TWILIO_FROM", "", "Sender: an E.164 number or a Messaging Service SID (MG...)"),
    Setting("FCM_API_BASE", "https://fcm.googleapis.com", "FCM HTTP v1 API address (PUSH_PROVIDER=fcm)"),
    Setting("FCM_PROJECT_ID", "", "Firebase project id"),
    Setting("FCM_ACCESS_TOKEN", "", "OAuth2 bearer token for FCM (minted from the service account)"),
    Setting("PROVIDER_TIMEOUT_SECONDS", 10, "Timeout of one SMS/push provider HTTP call", "int"),
    Setting("NOTIFICATIONS_BATCH_SIZE", 200, "Deliveries one job sends over one provider connection", "int"),
    Setting("NOTIFICATIONS_MAX_ATTEMPTS", 5, "Provider attempts of a delivery before its dead letter", "int"),
    Setting("NOTIFICATIONS_RETRY_BASE_MS", 30000, "First retry delay of a failed delivery; doubles per attempt", "int"),
    Setting("NOTIFICATIONS_RETRY_MAX_MS", 3600000, "Longest delay between two delivery attempts", "int"),
    Setting("NOTIFICATIONS_LEASE_SECONDS", 120, "Claim on a batch; a dead worker's batch resumes after it", "int"),
    Setting("NOTIFICATIONS_DIGEST_MINUTES", 10, "Chatty kinds: at most one email per thread per N minutes", "int"),
    Setting("NOTIFICATIONS_PRESENCE_TTL_SECONDS", 90, "A socket counts as online this long after its last ping", "int"),
    Setting("WEBHOOKS_ALLOW_PRIVATE", False, "Allow integrator webhooks to private/loopback hosts (tests)", "bool"),
    # Domain events (app/events): outbox relay, subscriber retries, timers, integrator webhooks.
    Setting("EVENTS_RELAY_BATCH_SIZE", 1000, "Outbox rows the relay moves per transaction", "int"),
    Setting("EVENTS_JOB_SIZE", 250, "Events per RQ delivery job (workers handle events in batches)", "int"),
    Setting("EVENTS_POLL_MS", 500, "Relay and timer idle poll interval (a commit's NOTIFY wakes it sooner)", "int"),
    Setting("EVENTS_RELAY_LINGER_MS", 20, "After a NOTIFY wake-up the relay waits this long to batch a burst", "int"),
    Setting("EVENTS_REDISPATCH_AFTER_SECONDS", 60, "Re-send a dispatched batch whose job was lost after this", "int"),
    Setting("EVENTS_RETRY_MAX_ATTEMPTS", 10, "Attempts of a failing subscriber or timer before the dead letter", "int"),
    Setting("EVENTS_RETRY_BASE_MS", 10000, "First retry delay of a subscriber or timer; doubles per attempt", "int"),
    Setting("EVENTS_RETRY_MAX_MS", 3600000, "Longest delay between two retries", "int"),
    Setting("EVENTS_RETENTION_DAYS", 30, "Settled outbox rows and delivery records are pruned after this", "int"),
    Setting("EVENTS_SUBSCRIBER_MODULES", "", "Extra modules declaring subscribers (plugins, tests)", "list"),
    Setting("WEBHOOKS_TIMEOUT_SECONDS", 10, "Timeout of one webhook POST to an integrator", "int"),
    Setting("WEBHOOKS_RETRY_BASE_MS", 30000, "First webhook retry delay; doubles per attempt", "int"),
    Setting("WEBHOOKS_RETRY_MAX_MS", 21600000, "Longest delay between two webhook attempts", "int"),
    Setting("WEBHOOKS_GIVE_UP_HOURS", 72, "A webhook delivery is retried for this long, then marked failed", "int"),
    Setting("ADMIN_EMAIL", "staff@bazaar.local", "Demo staff login created by the seeds"),
    Setting("ADMIN_PASSWORD", "bazaar-staff", "Demo staff password created by the seeds; refused in production"),
    Setting(
        "SOCKETIO_MESSAGE_QUEUE",
        "",
        "redis:// URL for cross-process Socket.IO; defaults to REDIS_URL; off = one process",
    ),
    Setting("WORKER_QUEUES", "events,notifications,imports,payouts,default", "Queues a worker listens on", "list"),
    # Messaging (blueprints/messaging): attachment storage behind pre-signed URLs (local disk).
    Setting("MESSAGING_STORAGE_DIR", "var/uploads", "Directory of the local-disk attachment storage"),
    Setting("MESSAGING_UPLOAD_URL_TTL_SECONDS", 900, "Lifetime of pre-signed upload/download URLs", "int"),
    Setting("MESSAGING_ATTACHMENT_MAX_BYTES", 10485760, "Largest attachment accepted (10 MiB)", "int"),
)


# Settings that were renamed: setting the old name fails fast instead of being silently ignored.
RENAMED: dict[str, str] = {
    "OFFERS_EXPIRY_HOURS": "OFFERS_EXPIRY_SECONDS",
    "PAYMENTS_INSPECTION_DAYS": "PAYMENTS_INSPECTION_SECONDS",
}


def _cast(setting: Setting, raw: str) -> Any:
    if setting.cast == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{setting.name}: expected an integer, got {raw!r}") from None
    if setting.cast == "bool":
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{setting.name}: expected true/false, got {raw!r}")
    if setting.cast == "list":
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


class Config:
    """Flask config built from an environment mapping (``os.environ`` by default)."""

    TESTING = False
    JSON_SORT_KEYS = False
    # Flask-AppBuilder: staff admin, its tables created by migrations, never at start.
    APP_NAME = "Bazaar admin"
    AUTH_TYPE = 1  # AUTH_DB
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = False
    FAB_ROLES_MAPPING: dict[int, str] = {}
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    # flask-smorest / OpenAPI
    API_TITLE = "Bazaar API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/static/"  # served locally: no CDN on a closed network
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    def __init__(self, environ: Mapping[str, str] | None = None, **overrides: Any) -> None:
        env = os.environ if environ is None else environ
        for old, new in RENAMED.items():
            if old in env:
                raise ConfigError(f"{old}: renamed to {new} (now in seconds); set that instead")
        for setting in SETTINGS:
            raw = env.get(setting.name)
            if raw is None:
                raw = setting.default if setting.cast == "list" else None
            value = setting.default if raw is None else _cast(setting, raw)
            setattr(self, setting.name, value)
        for key, value in overrides.items():
            setattr(self, key, value)
        self._derive()
        self.validate()

    def _derive(self) -> None:
        self.TESTING = self.BAZAAR_ENV == "test" or self.TESTING
        self.JWT_SECRET = self.JWT_SECRET or self.SECRET_KEY
        if self.SOCKETIO_MESSAGE_QUEUE == "off":
            self.SOCKETIO_MESSAGE_QUEUE = ""
        else:
            self.SOCKETIO_MESSAGE_QUEUE = self.SOCKETIO_MESSAGE_QUEUE or self.REDIS_URL
        self.SQLALCHEMY_DATABASE_URI = self.DATABASE_URL
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            "pool_size": self.DATABASE_POOL_SIZE,
            "pool_pre_ping": False,  # app/pool.py pings connections that sat idle, not each checkout
            # FAB's tables declare no schema: they live in `admin`, and `public` stays empty. No JIT:
            # it compiles every plan whose *estimated* cost passes jit_above_cost, including branches
            # that never run (a bounded walk's fallback, app/generator/walks.py), for ~15 ms a
            # statement, which short requests never win back.
            "connect_args": {"options": "-c search_path=admin -c timezone=UTC -c jit=off"},
        }
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        # FAB builds its own Limiter from these too: a Redis outage must not take any page down.
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.WTF_CSRF_ENABLED = not self.TESTING

    def validate(self) -> None:
        if self.BAZAAR_ENV not in {"development", "test", "production"}:
            raise ConfigError(f"BAZAAR_ENV: expected development|test|production, got {self.BAZAAR_ENV!r}")
        if not self.DATABASE_URL:
            raise ConfigError("DATABASE_URL: not set (the run command starts an embedded PostgreSQL for you)")
        if not self.DATABASE_URL.startswith("postgresql+psycopg://"):
            raise ConfigError("DATABASE_URL: must start with postgresql+psycopg:// (psycopg 3)")
        if not self.REDIS_URL:
            raise ConfigError("REDIS_URL: not set (the run command starts an embedded Redis for you)")
        if not self.REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("REDIS_URL: must be a redis://, rediss:// or unix:// URL")
        if self.JWT_ALGORITHM not in {"HS256", "RS256"}:
            raise ConfigError(f"JWT_ALGORITHM: expected HS256 or RS256, got {self.JWT_ALGORITHM!r}")
        if self.JWT_ALGORITHM == "RS256" and not self.JWT_PUBLIC_KEYS:
            raise ConfigError("JWT_PUBLIC_KEYS: required when JWT_ALGORITHM=RS256")
        if self.PAYMENTS_PROVIDER not in {"sandbox", "stripe"}:
            raise ConfigError(f"PAYMENTS_PROVIDER: expected sandbox or stripe, got {self.PAYMENTS_PROVIDER!r}")
        if self.SMS_PROVIDER not in {"log", "twilio"} or self.PUSH_PROVIDER not in {"log", "fcm"}:
            raise ConfigError("SMS_PROVIDER/PUSH_PROVIDER: expected log|twilio and log|fcm")
        if self.PAYMENTS_PROVIDER == "stripe" and not self.STRIPE_API_KEY:
            raise ConfigError("STRIPE_API_KEY: required when PAYMENTS_PROVIDER=stripe")
        if self.BAZAAR_ENV == "production":
            if self.SECRET_KEY == DEFAULT_SECRET or len(self.SECRET_KEY) < 32:
                raise ConfigError("SECRET_KEY: production needs a random secret of 32+ characters")
            if self.DEBUG:
                raise ConfigError("DEBUG: must be off in production")
            if self.ADMIN_PASSWORD == "bazaar-staff":  # noqa: S105
                raise ConfigError("ADMIN_PASSWORD: the demo password is refused in production")
            if not self.RATELIMIT_ENABLED:
                raise ConfigError("RATELIMIT_ENABLED: must be on in production")

    def as_dict(self) -> dict[str, Any]:
        names = {n for n in dir(self) if n.isupper()}
        return {name: getattr(self, name) for name in names}


def env_example() -> str:
    """The text of .env.example, generated from SETTINGS so the two never drift."""
    lines = ["# Bazaar settings (generated by `bazaar config example`). Defaults shown.", ""]
    for s in SETTINGS:
        default = ",".join(s.default) if isinstance(s.default, list) else s.default
        if isinstance(default, bool):
            default = str(default).lower()
        lines.append(f"# {s.doc}")
        lines.append(f"{s.name}={default}")
        lines.append("")
    return "\n".join(lines)
