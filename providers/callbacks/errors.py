"""Why an inbound callback was refused, each with a stable machine ``code``.

The application maps them to RFC 9457 problems (``voucher_service.callbacks``); this package knows
no HTTP. The texts never say more than the sender may know.
"""

from __future__ import annotations

from typing import ClassVar


class CallbackError(Exception):
    """Base class: every refusal of an inbound callback."""

    code: ClassVar[str] = "callback_error"
    title: ClassVar[str] = "Callback refused"
    title_zh: ClassVar[str] = "回调被拒绝"


class CallbackSigningKeyRequired(CallbackError):
    """The API client has no registered public key to verify signatures with."""

    code = "callback_signing_key_required"
    title = "Callbacks must come from an API client with a registered key"
    title_zh = "回调须由已登记公钥的 API 客户端发送"


class CallbackSignatureMissing(CallbackError):
    code = "callback_signature_missing"
    title = "Callback signature missing"
    title_zh = "缺少回调签名"


class CallbackSignatureInvalid(CallbackError):
    """Malformed, of the wrong type or algorithm, or not made by a registered key over the body."""

    code = "callback_signature_invalid"
    title = "Callback signature invalid"
    title_zh = "回调签名无效"


class CallbackMalformed(CallbackError):
    """The body is not a JSON object (or repeats a member name)."""

    code = "callback_malformed"
    title = "Callback body is not a JSON object"
    title_zh = "回调内容不是 JSON 对象"


class CallbackInvalid(CallbackError):
    """The envelope ``{id, type, timestamp, data}`` does not match its schema."""

    code = "callback_invalid"
    title = "Callback envelope invalid"
    title_zh = "回调信封格式无效"


class CallbackStale(CallbackError):
    """The signed ``timestamp`` is outside the tolerance (an old or replayed request)."""

    code = "callback_stale"
    title = "Callback timestamp outside the tolerance"
    title_zh = "回调时间戳超出允许范围"


class CallbackTypeUnknown(CallbackError):
    code = "callback_type_unknown"
    title = "Unknown callback type"
    title_zh = "未知的回调类型"


class CallbackScopeMissing(CallbackError):
    """The API client's token lacks the scope the callback type needs."""

    code = "callback_scope_missing"
    title = "The access token lacks the scope this callback type needs"
    title_zh = "访问令牌缺少该回调类型所需的权限范围"


class CallbackDataInvalid(CallbackError):
    """``data`` does not match the schema registered for the type."""

    code = "callback_data_invalid"
    title = "Callback data does not match its schema"
    title_zh = "回调数据不符合格式"


class CallbackIdReused(CallbackError):
    """The ``id`` was already used by this provider for different content."""

    code = "callback_id_reused"
    title = "Callback id already used for different content"
    title_zh = "回调编号已用于不同的内容"
