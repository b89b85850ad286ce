"""Problems of authentication and authorisation.

Texts are deliberately uniform: a refusal never tells whether an account, organisation or
object exists. The audit trail records the precise reason instead.
"""

from __future__ import annotations

import uuid

from voucher_service.kit.problems import ProblemError

BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class InvalidCredentials(ProblemError):
    status = 401
    code = "invalid_credentials"
    title = "Login failed"
    title_zh = "登录失败"

    def __init__(self) -> None:
        super().__init__(
            "The e-mail or password is wrong, or the account is temporarily locked after "
            "repeated failures or not active.",
            detail_zh="邮箱或密码错误，或账户因多次失败被暂时锁定或未激活。",
        )


class InvalidToken(ProblemError):
    status = 401
    code = "invalid_token"
    title = "Authentication required"
    title_zh = "需要登录认证"

    def __init__(self) -> None:
        super().__init__(
            "The access token is missing, invalid, expired or revoked.",
            detail_zh="访问令牌缺失、无效、已过期或已吊销。",
            headers=BEARER_CHALLENGE,
        )


class InvalidRefreshToken(ProblemError):
    status = 401
    code = "invalid_refresh_token"
    title = "Invalid refresh token"
    title_zh = "刷新令牌无效"


class InvalidPasswordToken(ProblemError):
    status = 401
    code = "invalid_password_token"
    title = "Invalid or expired invitation or reset token"
    title_zh = "邀请或重置令牌无效或已过期"


class InvalidClient(ProblemError):
    status = 401
    code = "invalid_client"
    title = "Client authentication failed"
    title_zh = "客户端认证失败"

    def __init__(self) -> None:
        super().__init__(
            "The client credentials are wrong, revoked or not allowed to get tokens.",
            detail_zh="客户端凭据错误、已吊销或不允许获取令牌。",
            headers={"WWW-Authenticate": 'Basic realm="voucher"'},
            error="invalid_client",
        )


class UnsupportedGrantType(ProblemError):
    status = 400
    code = "unsupported_grant_type"
    title = "Unsupported grant type"
    title_zh = "不支持的授权类型"


class ScopeRefused(ProblemError):
    status = 400
    code = "invalid_scope"
    title = "Invalid scope"
    title_zh = "权限范围无效"


class AccountSuspended(ProblemError):
    status = 403
    code = "account_suspended"
    title = "Account suspended"
    title_zh = "账户已暂停"

    #: The user refused, for the audit trail (never part of the response).
    subject: uuid.UUID | None = None


class SessionRequired(ProblemError):
    """No portal session, or one that has ended: the portal sends the browser to sign in."""

    status = 401
    code = "session_required"
    title = "Please sign in"
    title_zh = "请先登录"

    def __init__(self) -> None:
        super().__init__(
            "Sign in to continue; a session ends at sign-out, after a period without use, or "
            "when the password changes.",
            detail_zh="请登录后继续；退出登录、长时间未操作或修改密码后会话即结束。",
        )


class Forbidden(ProblemError):
    status = 403
    code = "forbidden"
    title = "Forbidden"
    title_zh = "无权访问"

    def __init__(self) -> None:
        super().__init__("Your role does not allow this.", detail_zh="您的角色无权执行此操作。")


class NotFound(ProblemError):
    status = 404
    code = "not_found"
    title = "Not found"
    title_zh = "未找到"

    def __init__(self) -> None:
        super().__init__("No such object.", detail_zh="对象不存在。")


class WeakPassword(ProblemError):
    status = 422
    code = "weak_password"
    title = "Password does not meet the rules"
    title_zh = "密码不符合要求"


class RateLimited(ProblemError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"
    title_zh = "请求过于频繁"
    # True on the one hit that went over the limit (audit that one, not the flood after it).
    first_refusal: bool = False
