"""billing: runs, revisions and their lines, adjustments, closed months

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_visits_household_date", "visits", ["household_id", "date"])
    op.create_table(
        "billing_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False, index=True),
        sa.Column("requested_by", sa.String(80), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("instance", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer, nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_table(
        "billing_revisions",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(80), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),  # totals and counts
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "bill_households",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("household_id", sa.String(40), primary_key=True),
        sa.Column("served_days", sa.Integer, nullable=False),
        sa.Column("charge", sa.String(20), nullable=False),
        sa.Column("subsidy", sa.String(20), nullable=False),
        sa.Column("family_share", sa.String(20), nullable=False),
    )
    op.create_table(
        "bill_shares",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("household_id", sa.String(40), primary_key=True),
        sa.Column("caregiver_id", sa.String(40), primary_key=True),
        sa.Column("weight", sa.String(40), nullable=False),  # exact, "n/d"
        sa.Column("government", sa.String(20), nullable=False),
        sa.Column("family", sa.String(20), nullable=False),
    )
    op.create_table(
        "bill_caregivers",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("caregiver_id", sa.String(40), primary_key=True),
        sa.Column("days", sa.String(20), nullable=False),
        sa.Column("government_part", sa.String(20), nullable=False),
        sa.Column("family_part", sa.String(20), nullable=False),
        sa.Column("pay", sa.String(20), nullable=False),
    )
    op.create_table(
        "bill_adjustments",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("of_month", sa.String(7), nullable=False),
        sa.Column("party", sa.String(10), nullable=False),  # household | caregiver
        sa.Column("party_id", sa.String(40), nullable=False),
        sa.Column("charge", sa.String(20), nullable=False),  # household: charge; caregiver: pay
        sa.Column("subsidy", sa.String(20), nullable=False),  # caregiver: government part
        sa.Column("family_share", sa.String(20), nullable=False),  # caregiver: family part
    )
    op.create_table(
        "month_closures",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("closed_by", sa.String(80), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "late_months",
        sa.Column("month", sa.String(7), primary_key=True),
    )

    op.create_table(
        "parties_households",
        sa.Column("household_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(80), nullable=True),
        sa.Column("address", sa.String(200), nullable=True),
        sa.Column("station_id", sa.String(40), nullable=False),
        sa.Column("street", sa.String(80), nullable=False),
    )
    op.create_table(
        "parties_caregivers",
        sa.Column("caregiver_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("station_id", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "parties_caregivers",
        "parties_households",
        "late_months",
        "month_closures",
        "bill_adjustments",
        "bill_caregivers",
        "bill_shares",
        "bill_households",
        "billing_revisions",
        "billing_runs",
    ):
        op.drop_table(table)
    op.drop_index("ix_visits_household_date", table_name="visits")
