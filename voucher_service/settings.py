"""One ``Settings`` object for the whole service, read from ``VOUCHER_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service configuration; every field can be set as ``VOUCHER_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="VOUCHER_", env_file=".env", env_file_encoding="utf-8", extra="forbid"
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str = Field(
        default="",
        description="sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db; "
        "empty means a SQLite file in the data directory",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    signing_key_dir: Path | None = Field(
        default=None, description="key ring directory; defaults to <data_dir>/keys"
    )
    signing_key_file: Path | None = Field(
        default=None, description="a PEM EC P-256 private key to sign with instead of the key ring"
    )
    secret_key_file: Path | None = Field(
        default=None, description="server HMAC secret; defaults to <key dir>/server-secret"
    )
    base_url: str = "http://127.0.0.1:8000"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    request_timeout_seconds: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="a request's whole time limit, reading its body included (408 or 503)",
    )
    embedded_worker: bool = Field(
        default=True, description="run the background worker inside the API process"
    )
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_allow_loopback: bool = Field(
        default=False,
        description="let webhook URLs resolve to loopback addresses (local development, tests)",
    )
    webhook_attempt_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="a delivery attempt's whole time limit"
    )
    webhook_concurrency: int = Field(
        default=50, ge=1, le=1000, description="delivery attempts in flight per worker"
    )
    webhook_secret_keys: SecretStr | None = Field(
        default=None,
        description="Fernet keys that encrypt webhook secrets at rest, comma-separated, newest "
        "first; default: a key file generated in the key directory",
    )
    webhook_secret_overlap_hours: float = Field(
        default=24, ge=0, le=168, description="how long the old secret still signs after a rotation"
    )
    callback_tolerance_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="how far the signed timestamp of an inbound provider callback may be from "
        "our clock",
    )

    # Identity and access (see voucher_service/auth). Lifetimes in seconds.
    token_issuer: str = Field(default="", description="JWT iss; empty means base_url")
    token_audience: str = Field(default="voucher-api", description="JWT aud of access tokens")
    access_token_seconds: int = Field(default=600, ge=60, le=3600)
    refresh_token_seconds: int = Field(default=8 * 3600, ge=300, le=30 * 86400)
    session_max_seconds: int = Field(default=7 * 86400, ge=3600, le=90 * 86400)
    portal_session_idle_seconds: int = Field(
        default=30 * 60,
        ge=60,
        le=86400,
        description="a portal (browser) session ends after this long without a request",
    )
    portal_session_max_seconds: int = Field(
        default=12 * 3600,
        ge=600,
        le=30 * 86400,
        description="a portal session ends this long after sign-in, however active",
    )
    client_token_seconds: int = Field(default=600, ge=60, le=3600)
    client_secret_rotation_grace_seconds: int = Field(default=86400, ge=0, le=30 * 86400)
    client_assertion_max_seconds: int = Field(default=300, ge=30, le=3600)
    client_secret_pepper: SecretStr | None = Field(
        default=None,
        description="HMAC key for stored client secrets; empty means a file in the key dir",
    )
    password_min_length: int = Field(default=10, ge=8, le=64)
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65_536, ge=8)
    password_hash_parallelism: int = Field(default=4, ge=1)
    login_lockout_threshold: int = Field(default=5, ge=1)
    login_lockout_base_seconds: int = Field(default=30, ge=1)
    login_lockout_max_seconds: int = Field(default=900, ge=1)
    password_token_seconds: int = Field(default=3 * 86400, ge=600, le=30 * 86400)
    startup_max_age_years: int = Field(default=5, ge=1, le=20)
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=3600)
    rate_limit_login_per_address: int = Field(default=30, ge=0)
    rate_limit_login_per_account: int = Field(default=10, ge=0)
    rate_limit_token_per_address: int = Field(default=120, ge=0)
    rate_limit_token_per_client: int = Field(default=60, ge=0)
    rate_limit_provider_per_address: int = Field(default=6000, ge=0)
    rate_limit_provider_per_client: int = Field(default=6000, ge=0)
    audit_retention_days: int = Field(default=365, ge=180)
    settlement_four_eyes_amount: int = Field(
        default=10_000_000,
        ge=0,
        description="fen; a settlement whose net amount is above it needs two finance approvers",
    )
    settlement_response_days: int = Field(
        default=10, ge=0, le=90, description="days a payee has to confirm or dispute"
    )
    statement_max_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024, description="largest provider statement upload"
    )
    idempotency_retention_hours: float | None = Field(
        default=24,
        gt=0,
        description="how long an Idempotency-Key's answer is kept on ordinary mutating routes "
        "(empty: for ever)",
    )
    idempotency_redemption_retention_hours: float | None = Field(
        default=None,
        gt=0,
        description="how long an Idempotency-Key's answer is kept on provider redemption calls "
        "(empty: for ever)",
    )
    idempotency_wait_seconds: float = Field(
        default=10,
        ge=0,
        le=60,
        description="how long a request waits for another one with the same Idempotency-Key "
        "before answering 409 idempotency_request_in_progress",
    )
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        description="largest attachment (application or claim file) accepted, in bytes",
    )
    rate_limit_objection_per_address: int = Field(
        default=10, ge=0, description="publicity objections per client address per window"
    )
    principal_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="how long an API replica reuses a verified API client token's principal "
        "(voucher_service/auth/principal_cache.py); 0 switches the cache off",
    )

    @model_validator(mode="after")
    def _check_database_url(self) -> Settings:
        url = self.database_url
        if url and not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return self

    @model_validator(mode="after")
    def _check_password_hashing(self) -> Settings:
        # OWASP's argon2id floor: 19 MiB with 2 iterations (or more memory). Cheaper parameters
        # are for tests and development only.
        if self.is_production and (
            self.password_hash_memory_kib < 19_456 or self.password_hash_time_cost < 2
        ):
            raise ValueError(
                "password hashing below OWASP's argon2id minimum (19456 KiB, 2 iterations)"
            )
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, with the embedded SQLite default filled in."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'voucher.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def resolved_token_issuer(self) -> str:
        return self.token_issuer or self.base_url.rstrip("/")

    @property
    def webhook_require_https(self) -> bool:
        """Webhook URLs must be https outside development."""
        return self.is_production

    @property
    def key_dir(self) -> Path:
        return self.signing_key_dir or self.data_dir / "keys"

    @property
    def secret_path(self) -> Path:
        return self.secret_key_file or self.key_dir / "server-secret"

    @property
    def json_logs(self) -> bool:
        if self.log_format == "auto":
            return self.is_production
        return self.log_format == "json"
