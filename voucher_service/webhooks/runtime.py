"""The webhook engine's parts, built from the settings."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from providers.webhooks.secrets import SecretBox
from providers.webhooks.ssrf import UrlGuard
from providers.webhooks.worker import DeliveryConfig
from voucher_service.keys.secret import derive_key, load_or_create_secret
from voucher_service.settings import Settings


def secret_box(settings: Settings) -> SecretBox:
    """Encrypts endpoint secrets with the configured keys, or one derived from the server secret."""
    configured = settings.webhook_secret_keys
    if configured is not None:
        return _box_from_text(configured.get_secret_value())
    return _box_from_server_secret(settings.secret_path)


@lru_cache(maxsize=8)
def _box_from_text(keys: str) -> SecretBox:
    return SecretBox.from_text(keys)


@lru_cache(maxsize=8)
def _box_from_server_secret(path: Path) -> SecretBox:
    key = derive_key(load_or_create_secret(path), "webhook-secrets")
    return SecretBox([base64.urlsafe_b64encode(key)])


def url_guard(settings: Settings) -> UrlGuard:
    """The SSRF guard: https only in production, loopback only when explicitly allowed."""
    return UrlGuard(
        require_https=settings.webhook_require_https,
        allow_loopback=settings.webhook_allow_loopback,
    )


def delivery_config(settings: Settings) -> DeliveryConfig:
    """The delivery engine's configuration."""
    return DeliveryConfig(
        attempt_timeout=settings.webhook_attempt_timeout_seconds,
        concurrency=settings.webhook_concurrency,
    )
