"""Reimbursement claims: the holder of a reimbursement-mode voucher claims what it paid."""
