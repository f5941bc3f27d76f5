"""dispatch: shortlists, decisions (audit), leave, substitutes, applications, notices

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("ended_on", sa.Date, nullable=True))
        batch.add_column(sa.Column("end_reason", sa.String(16), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(80), nullable=True))
        batch.add_column(sa.Column("override_reason", sa.Text, nullable=True))
    with op.batch_alter_table("care_requests") as batch:
        batch.add_column(sa.Column("mode", sa.String(16), nullable=True))
    # matching reads a street's caregivers and open requests on every request
    op.create_index("ix_caregivers_street", "caregivers", ["street"])
    op.create_index("ix_households_street", "households", ["street"])
    op.create_index("ix_care_requests_status", "care_requests", ["status"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(80), nullable=False, index=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_table(
        "shortlists",
        sa.Column("request_id", sa.String(40), primary_key=True),
        sa.Column("candidates", sa.JSON, nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "leaves",
        sa.Column("caregiver_id", sa.String(40), primary_key=True),
        sa.Column("first_day", sa.Date, primary_key=True),
        sa.Column("last_day", sa.Date, nullable=False),
    )
    op.create_table(
        "substitutes",
        sa.Column("substitute_request_id", sa.String(40), primary_key=True),
        sa.Column("household_id", sa.String(40), nullable=False, index=True),
        sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
        sa.Column("replaces", sa.String(40), nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
    )
    op.create_table(
        "applications",
        sa.Column("application_id", sa.String(40), primary_key=True),
        sa.Column("household_id", sa.String(40), nullable=False, index=True),
        sa.Column("round", sa.String(7), nullable=False, index=True),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("form", sa.JSON, nullable=False),
        sa.Column("category", sa.String(1), nullable=True),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("monthly_subsidy", sa.String(20), nullable=False),
        sa.Column("child_caregiver_id", sa.String(40), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_table(
        "notices",
        sa.Column("application_id", sa.String(40), primary_key=True),
        sa.Column("posted_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("objection", sa.Text, nullable=True),
    )


def downgrade() -> None:
    for table in ("notices", "applications", "substitutes", "leaves", "shortlists", "decisions"):
        op.drop_table(table)
    op.drop_index("ix_care_requests_status", "care_requests")
    op.drop_index("ix_households_street", "households")
    op.drop_index("ix_caregivers_street", "caregivers")
    with op.batch_alter_table("care_requests") as batch:
        batch.drop_column("mode")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("override_reason")
        batch.drop_column("decided_by")
        batch.drop_column("end_reason")
        batch.drop_column("ended_on")
