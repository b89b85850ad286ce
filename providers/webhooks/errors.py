"""Exceptions of the webhook package, each with a stable machine ``code``.

The application maps them to RFC 9457 problems (``voucher_service.webhooks.problems``); this
package knows no HTTP. ``title``/``title_zh`` are what an operator reads in the portal.
"""

from __future__ import annotations

from typing import ClassVar


class WebhookError(Exception):
    """Base class: every failure this package reports on purpose."""

    code: ClassVar[str] = "webhook_error"
    title: ClassVar[str] = "Webhook error"
    title_zh: ClassVar[str] = "回调错误"


class WebhookUrlRefused(WebhookError):
    """The URL is not one we may call: wrong scheme, or it resolves to a forbidden address."""

    code = "webhook_url_refused"
    title = "Webhook URL refused"
    title_zh = "回调地址不被允许"


class UnknownEventType(WebhookError):
    """An event type outside the published list (DESIGN.md section 7)."""

    code = "webhook_event_type_unknown"
    title = "Unknown webhook event type"
    title_zh = "未知的回调事件类型"


class InvalidEventData(WebhookError):
    """The ``data`` of an event does not match the published schema of its type."""

    code = "webhook_event_data_invalid"
    title = "Webhook event data does not match its schema"
    title_zh = "回调事件数据不符合格式"


class EndpointNotFound(WebhookError):
    """The provider has not set a webhook endpoint yet."""

    code = "webhook_endpoint_not_found"
    title = "No webhook endpoint"
    title_zh = "尚未设置回调地址"


class EndpointDisabled(WebhookError):
    """The endpoint was disabled (it answered 410 Gone); saving it again re-enables it."""

    code = "webhook_endpoint_disabled"
    title = "Webhook endpoint disabled"
    title_zh = "回调地址已停用"


class EventNotReplayable(WebhookError):
    """Only dead-lettered events of the provider can be replayed."""

    code = "webhook_event_not_replayable"
    title = "Webhook event cannot be replayed"
    title_zh = "该回调事件无法重发"
