"""Vouchers: codes, holders, balances, lifecycle."""
