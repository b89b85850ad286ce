"""Online applications for vouchers: drafts, attachments, multi-stage review, publicity, issue."""
