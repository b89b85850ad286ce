"""Authentication and authorisation: password login, tokens, sessions, principals, guards.

Routes declare who may call them with the ``Annotated`` aliases in
:mod:`voucher_service.auth.dependencies` (``CurrentUser``, ``CurrentProvider``, ``EnterpriseOwner``,
``requires_roles(...)``); object-level checks load and authorise in one dependency.
"""
