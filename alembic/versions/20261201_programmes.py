"""programmes: programmes, eligible providers, price ceilings, provider registry, vouchers

Revision ID: 20261201_programmes
Revises: 20261130_browser_sessions
Create Date: 2026-12-01 09:00:00.000000

A programme's and a voucher's money is in the ledger; these tables hold their rules and state.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ledger.sqltypes
from alembic import op

revision: str = "20261201_programmes"
down_revision: str | None = "20261130_browser_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "program",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rate_tiers", sa.JSON(), nullable=False),
        sa.Column("default_rate_bp", sa.Integer(), nullable=False),
        sa.Column("enterprise_annual_cap_amount", sa.BigInteger(), nullable=True),
        sa.Column("contract_cap_amount", sa.BigInteger(), nullable=True),
        sa.Column("claim_share_bp", sa.Integer(), nullable=True),
        sa.Column("rounding_unit", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("eligible_from_on", sa.Date(), nullable=True),
        sa.Column("eligible_until_on", sa.Date(), nullable=True),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("valid_until_on", sa.Date(), nullable=True),
        sa.Column("allow_holder_providers", sa.Boolean(), nullable=False),
        sa.Column("review_stages", sa.JSON(), nullable=False),
        sa.Column(
            "oversubscription_policy", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False
        ),
        sa.Column("two_approver_threshold_amount", sa.BigInteger(), nullable=True),
        sa.Column("hold_timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("opened_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archived_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('compute', 'model')", name=op.f("ck_program_kind")),
        sa.CheckConstraint(
            "mode IN ('point_of_sale', 'reimbursement')", name=op.f("ck_program_mode")
        ),
        sa.CheckConstraint(
            "oversubscription_policy IN ('fifo_by_contract_date', 'pro_rata')",
            name=op.f("ck_program_oversubscription_policy"),
        ),
        sa.CheckConstraint(
            "rounding_unit IN ('fen', 'yuan')", name=op.f("ck_program_rounding_unit")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'closed', 'archived')", name=op.f("ck_program_status")
        ),
        sa.CheckConstraint(
            "claim_share_bp IS NULL OR claim_share_bp BETWEEN 0 AND 10000",
            name=op.f("ck_program_claim_share_bp"),
        ),
        sa.CheckConstraint("closes_on >= opens_on", name=op.f("ck_program_window")),
        sa.CheckConstraint(
            "default_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_program_default_rate_bp")
        ),
        sa.CheckConstraint(
            "hold_timeout_seconds > 0", name=op.f("ck_program_hold_timeout_seconds")
        ),
        sa.CheckConstraint(
            "validity_days IS NOT NULL OR valid_until_on IS NOT NULL",
            name=op.f("ck_program_validity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program")),
    )
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_fiscal_year"), ["fiscal_year"], unique=False)
        batch_op.create_index(batch_op.f("ix_program_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_program_status"), ["status"], unique=False)

    op.create_table(
        "price_ceiling",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("max_unit_price_amount", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "max_unit_price_amount > 0", name=op.f("ck_price_ceiling_max_unit_price_amount")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_price_ceiling_program_id_program")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_ceiling")),
        sa.UniqueConstraint(
            "program_id", "resource", "unit", name=op.f("uq_price_ceiling_program_id_resource_unit")
        ),
    )
    with op.batch_alter_table("price_ceiling", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_price_ceiling_program_id"), ["program_id"], unique=False
        )

    op.create_table(
        "program_provider",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_program_provider_program_id_program")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_program_provider_provider_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_provider")),
        sa.UniqueConstraint(
            "program_id", "provider_id", name=op.f("uq_program_provider_program_id_provider_id")
        ),
    )
    with op.batch_alter_table("program_provider", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_provider_program_id"), ["program_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_program_provider_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "provider_profile",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("filing_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("publicity_until", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspended_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("updated_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('proposed', 'publicity', 'approved', 'suspended')",
            name=op.f("ck_provider_profile_state"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_provider_profile_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_provider_profile")),
    )
    with op.batch_alter_table("provider_profile", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_profile_state"), ["state"], unique=False)

    op.create_table(
        "voucher",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("issued_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("valid_from", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("state_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("state_changed_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("kind IN ('compute', 'model')", name=op.f("ck_voucher_kind")),
        sa.CheckConstraint(
            "state IN ('active', 'frozen', 'exhausted', 'expired', 'revoked')",
            name=op.f("ck_voucher_state"),
        ),
        sa.CheckConstraint("issued_amount > 0", name=op.f("ck_voucher_issued_amount")),
        sa.CheckConstraint("rate_bp BETWEEN 0 AND 10000", name=op.f("ck_voucher_rate_bp")),
        sa.CheckConstraint("valid_until > valid_from", name=op.f("ck_voucher_validity")),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["organisation.id"], name=op.f("fk_voucher_holder_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_voucher_program_id_program")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher")),
        sa.UniqueConstraint("application_id", name=op.f("uq_voucher_application_id")),
        sa.UniqueConstraint("code", name=op.f("uq_voucher_code")),
    )
    with op.batch_alter_table("voucher", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voucher_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_valid_until"), ["valid_until"], unique=False)

    op.create_table(
        "catalogue_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("list_price_amount", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider_profile.organisation_id"],
            name=op.f("fk_catalogue_item_provider_id_provider_profile"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_item")),
        sa.UniqueConstraint(
            "provider_id",
            "resource",
            "unit",
            name=op.f("uq_catalogue_item_provider_id_resource_unit"),
        ),
    )
    with op.batch_alter_table("catalogue_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalogue_item_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "voucher_provider",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", ledger.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.CheckConstraint(
            "source IN ('contract', 'holder')", name=op.f("ck_voucher_provider_source")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_voucher_provider_provider_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_voucher_provider_voucher_id_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_provider")),
        sa.UniqueConstraint(
            "voucher_id", "provider_id", name=op.f("uq_voucher_provider_voucher_id_provider_id")
        ),
    )
    with op.batch_alter_table("voucher_provider", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voucher_provider_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_voucher_provider_voucher_id"), ["voucher_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voucher_provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voucher_provider_voucher_id"))
        batch_op.drop_index(batch_op.f("ix_voucher_provider_provider_id"))

    op.drop_table("voucher_provider")
    with op.batch_alter_table("catalogue_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalogue_item_provider_id"))

    op.drop_table("catalogue_item")
    with op.batch_alter_table("voucher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voucher_valid_until"))
        batch_op.drop_index(batch_op.f("ix_voucher_state"))
        batch_op.drop_index(batch_op.f("ix_voucher_program_id"))
        batch_op.drop_index(batch_op.f("ix_voucher_holder_id"))

    op.drop_table("voucher")
    with op.batch_alter_table("provider_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_profile_state"))

    op.drop_table("provider_profile")
    with op.batch_alter_table("program_provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_provider_provider_id"))
        batch_op.drop_index(batch_op.f("ix_program_provider_program_id"))

    op.drop_table("program_provider")
    with op.batch_alter_table("price_ceiling", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_ceiling_program_id"))

    op.drop_table("price_ceiling")
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_status"))
        batch_op.drop_index(batch_op.f("ix_program_kind"))
        batch_op.drop_index(batch_op.f("ix_program_fiscal_year"))

    op.drop_table("program")
