"""Glue between the application and the ledger library (``ledger/``).

The ledger knows no HTTP, worker or CLI; this package gives it those: its exceptions become
problem responses (``problems``), its maintenance runs as worker jobs (``jobs``), and
``voucher-service ledger verify`` checks it (``cli``). Domains call the ledger directly
(``import ledger``) with their unit of work's session.
"""
