"""Settlements: what the programme owes each payee for a period, approved, confirmed and paid."""
