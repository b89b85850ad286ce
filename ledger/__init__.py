"""Double-entry ledger core.

Imports neither ``voucher_service`` nor ``providers``; knows no HTTP.
"""
