"""Exceptions of the API client domain, each with a stable ``code``.

The application maps them to HTTP problems once (``register_foreign``); the titles are shown to
API callers, so they never say more than the caller may know.
"""

from __future__ import annotations

from typing import ClassVar


class ClientsError(Exception):
    """Base of every API client error."""

    code: ClassVar[str] = "client_error"
    title: ClassVar[str] = "API client error"
    title_zh: ClassVar[str] = "API 客户端错误"


class InvalidJwk(ClientsError):
    """The public key offered for ``private_key_jwt`` is unusable."""

    code = "invalid_jwk"
    title = "Unusable public key"
    title_zh = "公钥不可用"


class InvalidScope(ClientsError):
    """A requested scope does not exist or was not granted to the client."""

    code = "invalid_scope"
    title = "Invalid scope"
    title_zh = "权限范围无效"


class ClientRevoked(ClientsError):
    """The credential was revoked and cannot be rotated or used again."""

    code = "client_revoked"
    title = "API client revoked"
    title_zh = "API 客户端已吊销"


class WrongAuthMethod(ClientsError):
    """The operation does not fit the client's authentication method."""

    code = "wrong_auth_method"
    title = "Wrong authentication method for this client"
    title_zh = "该客户端的认证方式不支持此操作"


class ClientAuthenticationFailed(ClientsError):
    """The client could not be authenticated; ``reason`` is for the audit trail only."""

    code = "invalid_client"
    title = "Client authentication failed"
    title_zh = "客户端认证失败"

    def __init__(self, reason: str) -> None:
        super().__init__("Client authentication failed.")
        self.reason = reason
