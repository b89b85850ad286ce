"""Provider API clients: credentials (client secrets or registered public keys) and scopes.

Pure logic and table models only; the HTTP routes and the token endpoint live in
``voucher_service`` (``voucher_service.clients`` and ``voucher_service.auth``).
"""
