"""Ledger health for the authority: trial balance, verify runs, checkpoints, statements."""
