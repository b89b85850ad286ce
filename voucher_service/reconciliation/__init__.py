"""Reconciliation of a provider's own statement against our redemptions, by order id."""
