"""applications: applications, review decisions, attachments, publicity objections, claims

Revision ID: 20261202_applications
Revises: 20261201_programmes
Create Date: 2026-12-02 09:00:00.000000

Attachments' bytes live on disk under <data_dir>/attachments by SHA-256; these tables hold
their metadata. One application per programme, provider and contract number; one claim per
programme and invoice number.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ledger.sqltypes
from alembic import op

revision: str = "20261202_applications"
down_revision: str | None = "20261201_programmes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("contract_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("contract_amount", sa.BigInteger(), nullable=False),
        sa.Column("contract_signed_on", sa.Date(), nullable=False),
        sa.Column("contract_starts_on", sa.Date(), nullable=False),
        sa.Column("contract_ends_on", sa.Date(), nullable=False),
        sa.Column("contract_domestic_chips", sa.Boolean(), nullable=False),
        sa.Column("project_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("project_summary", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("related_party_declared", sa.Boolean(), nullable=False),
        sa.Column(
            "related_party_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True
        ),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("eligible_amount", sa.BigInteger(), nullable=True),
        sa.Column("eligibility", sa.JSON(), nullable=True),
        sa.Column("awarded_amount", sa.BigInteger(), nullable=True),
        sa.Column("voucher_id", sa.Uuid(), nullable=True),
        sa.Column("publicity_until", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'in_review', 'publicity', 'approved', 'rejected', 'returned', 'withdrawn')",
            name=op.f("ck_application_state"),
        ),
        sa.CheckConstraint(
            "contract_amount > 0", name=op.f("ck_application_contract_amount_positive")
        ),
        sa.CheckConstraint(
            "contract_ends_on > contract_starts_on", name=op.f("ck_application_contract_dates")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_application_created_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["organisation.id"],
            name=op.f("fk_application_enterprise_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_application_program_id_program")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_application_provider_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        sa.UniqueConstraint("program_id", "provider_id", "contract_number", name="contract"),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_state"), ["state"], unique=False)

    op.create_table(
        "claim",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("invoice_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("paid_amount", sa.BigInteger(), nullable=False),
        sa.Column("period_from_on", sa.Date(), nullable=False),
        sa.Column("period_until_on", sa.Date(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("eligible_amount", sa.BigInteger(), nullable=False),
        sa.Column("eligibility", sa.JSON(), nullable=False),
        sa.Column("approved_amount", sa.BigInteger(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "state IN ('submitted', 'approved', 'rejected')", name=op.f("ck_claim_state")
        ),
        sa.CheckConstraint(
            "approved_amount IS NULL OR (approved_amount > 0 AND approved_amount <= eligible_amount)",
            name=op.f("ck_claim_approved_within_eligible"),
        ),
        sa.CheckConstraint("paid_amount > 0", name=op.f("ck_claim_paid_amount_positive")),
        sa.CheckConstraint("period_until_on > period_from_on", name=op.f("ck_claim_period")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_claim_created_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["user_account.id"], name=op.f("fk_claim_decided_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["organisation.id"], name=op.f("fk_claim_enterprise_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_claim_program_id_program")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_claim_voucher_id_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim")),
        sa.UniqueConstraint("program_id", "invoice_number", name="invoice"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_voucher_id"), ["voucher_id"], unique=False)

    op.create_table(
        "application_decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("stage_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("actor_label", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("awarded_amount", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject', 'return')",
            name=op.f("ck_application_decision_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_application_decision_actor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_decision_application_id_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_decision")),
    )
    with op.batch_alter_table("application_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_decision_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "attachment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("claim_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('contract', 'business_licence', 'invoice', 'payment', 'delivery', 'other')",
            name=op.f("ck_attachment_kind"),
        ),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_attachment_size_positive")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_attachment_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_attachment_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_attachment_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["user_account.id"],
            name=op.f("fk_attachment_uploaded_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachment_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attachment_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachment_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "objection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("address_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_objection_application_id_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection")),
    )
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_objection_application_id"), ["application_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_application_id"))

    op.drop_table("objection")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_claim_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_application_id"))

    op.drop_table("attachment")
    with op.batch_alter_table("application_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_decision_application_id"))

    op.drop_table("application_decision")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_voucher_id"))
        batch_op.drop_index(batch_op.f("ix_claim_state"))
        batch_op.drop_index(batch_op.f("ix_claim_program_id"))
        batch_op.drop_index(batch_op.f("ix_claim_enterprise_id"))

    op.drop_table("claim")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_state"))
        batch_op.drop_index(batch_op.f("ix_application_program_id"))
        batch_op.drop_index(batch_op.f("ix_application_enterprise_id"))

    op.drop_table("application")
