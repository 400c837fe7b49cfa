"""Application settings: the only module that reads the environment.

Every knob has a zero-setup default (SQLite under ./data, an embedded broker on SQLite),
and production overrides them with env vars (DATABASE_URL, REDIS_URL, SECRET_KEY, ...).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEV_SECRET_KEY = "dev-only-secret-key-change-me-in-production"


class Settings(BaseSettings):
    """Runtime configuration, read from env vars (and a .env file when present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{DATA_DIR / 'app.db'}")
    redis_url: str | None = None
    # Overrides the broker derived from REDIS_URL (tests point it at a scratch SQLite file).
    celery_broker_url: str | None = None
    # Test runs use their own queue so messages left by other runs never reach their worker.
    celery_queue: str = "celery"
    # Signs session tokens and derives the key that encrypts provider credentials.
    secret_key: str = DEV_SECRET_KEY
    port: int = Field(default=8000, alias="APP_PORT")
    session_ttl_hours: int = 12
    login_max_failures: int = 5  # failures per email inside the window before lockout
    login_window_minutes: int = 15
    beat_interval_seconds: float = 5.0
    # Full segment recomputes catch what time alone changes ("no order in 60 days"); 0: off.
    segment_refresh_minutes: int = 60
    rfm_refresh_hours: int = 24
    # A loyalty sync (POS orders, Alpine IQ balances) per connected tenant this often; 0: off.
    loyalty_sync_minutes: int = 60
    api_rate_limit: str = "600/minute"  # per API key, `limits` notation
    tracking_rate_limit: str = "2000/second"  # per publishable key, requests
    cors_origins: str = "*"
    # Public address of this app: email open pixels, click redirects and unsubscribe links.
    tracking_base_url: str = "http://localhost:8000"
    # Signs email link tokens; unset: SECRET_KEY. Set it to keep links in sent emails working
    # when SECRET_KEY rotates (links stay valid for as long as this secret does).
    email_token_secret: str | None = None
    # How long a sending worker holds the messages it claimed; a killed worker's messages
    # are claimed again after this. Longer than a batch takes to send.
    email_lease_seconds: float = 300.0
    email_batch_size: int = Field(default=1000, ge=1)  # messages a sending worker claims at a time
    # Workers sending one campaign at once: about one per core (each is a process; SendGrid's
    # answers take 150 ms, so one more than the cores keeps them busy while others wait).
    email_senders_per_campaign: int = Field(default=2, ge=1)
    # "Send now" writes this many rows per sender before starting them (~0.02 s each on
    # PostgreSQL) and the rest behind them (services.campaign_send_rows).
    email_first_rows_per_sender: int = Field(default=2_500, ge=0)  # 0: all rows first
    # Loyalty reconciliation alerts by email: smtp://[user:pass@]host[:port] (STARTTLS when
    # the server offers it) or smtps://...; empty: no alert email (webhooks still go out).
    alert_smtp_url: str = ""
    alert_from: str = "loyalty-alerts@localhost"

    @property
    def broker_url(self) -> str:
        """Redis when configured, otherwise kombu's SQLAlchemy transport on a SQLite file."""
        if self.celery_broker_url:
            return self.celery_broker_url
        if self.redis_url:
            return self.redis_url
        return f"sqla+sqlite:///{DATA_DIR / 'broker.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    DATA_DIR.mkdir(exist_ok=True)
    return Settings()
