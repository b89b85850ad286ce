"""Problems of the users domain."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class EmailTaken(ProblemError):
    status = 409
    code = "email_taken"
    title = "E-mail already registered"
    title_zh = "该邮箱已注册"


class RoleNotAllowed(ProblemError):
    status = 422
    code = "role_not_allowed"
    title = "Role does not fit the organisation"
    title_zh = "角色与机构类型不符"


class UserStateConflict(ProblemError):
    status = 409
    code = "user_state_conflict"
    title = "The account is not in a state that allows this"
    title_zh = "账户当前状态不允许此操作"
