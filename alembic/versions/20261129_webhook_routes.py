"""webhook routes: provider_id of endpoints, events and notices references organisation

Revision ID: 20261129_webhook_routes
Revises: 20261129_webhooks
Create Date: 2026-11-29 18:02:40.118204

No clean-up of orphans is needed: before this revision no route or domain wrote these tables, so
every row a deployment can hold was made for a real provider. SQLite cannot add a constraint to a
table, so batch mode copies each table there; PostgreSQL gets a plain ALTER TABLE.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261129_webhook_routes"
down_revision: str | None = "20261129_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("webhook_endpoint", "webhook_event", "webhook_notice")


def _name(table: str) -> str:
    return f"fk_{table}_provider_id_organisation"


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                batch_op.f(_name(table)), "organisation", ["provider_id"], ["id"]
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(_name(table)), type_="foreignkey")
