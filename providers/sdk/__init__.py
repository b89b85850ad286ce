"""Provider SDK for the compute and model voucher service (算力券 / 模型券).

Depends only on httpx, python-jose and the standard library; see ``README.md`` beside this file.
"""

from providers.sdk.auth import ClientSecret, Credentials, PrivateKeyJwt
from providers.sdk.client import AsyncVoucherClient, VoucherClient
from providers.sdk.errors import (
    AccountSuspended,
    AuthenticationFailed,
    BadRequest,
    Conflict,
    DuplicateOrderId,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InsufficientBalance,
    InvalidClient,
    NotFound,
    PermissionDenied,
    ProblemError,
    RateLimited,
    ReceiptInvalid,
    ServerError,
    TransportFailure,
    ValidationFailed,
    VoucherError,
    VoucherNotRedeemable,
    WebhookVerificationError,
)
from providers.sdk.models import (
    CallbackAccepted,
    Page,
    ProviderIdentity,
    Receipt,
    Redemption,
    Refund,
    Usage,
    Voucher,
    WebhookEvent,
)
from providers.sdk.receipts import keys_by_id, verify_with_keys
from providers.sdk.retry import NO_RETRIES, RetryPolicy
from providers.sdk.webhooks import verify_webhook

__all__ = [
    "NO_RETRIES",
    "AccountSuspended",
    "AsyncVoucherClient",
    "AuthenticationFailed",
    "BadRequest",
    "CallbackAccepted",
    "ClientSecret",
    "Conflict",
    "Credentials",
    "DuplicateOrderId",
    "IdempotencyKeyInFlight",
    "IdempotencyKeyReused",
    "InsufficientBalance",
    "InvalidClient",
    "NotFound",
    "Page",
    "PermissionDenied",
    "PrivateKeyJwt",
    "ProblemError",
    "ProviderIdentity",
    "RateLimited",
    "Receipt",
    "ReceiptInvalid",
    "Redemption",
    "Refund",
    "RetryPolicy",
    "ServerError",
    "TransportFailure",
    "Usage",
    "ValidationFailed",
    "Voucher",
    "VoucherClient",
    "VoucherError",
    "VoucherNotRedeemable",
    "WebhookEvent",
    "WebhookVerificationError",
    "keys_by_id",
    "verify_webhook",
    "verify_with_keys",
]
