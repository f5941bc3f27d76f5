"""console: plumbing tables, users, audit log, inspection notes

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from services.infra.bus.tables import create_plumbing_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing_tables(op)
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("station_id", sa.String(40), nullable=True),
        sa.Column("caregiver_id", sa.String(40), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("user_id", sa.String(40), nullable=False, index=True),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
    )
    op.create_table(
        "inspection_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("station_id", sa.String(40), nullable=False, index=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("inspection_notes", "audit_log", "users", "dead_letters", "inbox", "outbox"):
        op.drop_table(table)
