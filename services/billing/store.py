"""Billing tables: its own projection of categories and completed visits."""

from __future__ import annotations

import sqlalchemy as sa

from services.infra.bus.tables import plumbing_tables

metadata = sa.MetaData()
plumbing = plumbing_tables(metadata)

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("from_date", sa.Date, primary_key=True),
    sa.Column("category", sa.String(1), nullable=True),
)

visits = sa.Table(
    "visits",
    metadata,
    sa.Column("visit_id", sa.String(80), primary_key=True),
    sa.Column("household_id", sa.String(40), nullable=False),
    sa.Column("caregiver_id", sa.String(40), nullable=False),
    sa.Column("date", sa.Date, nullable=False, index=True),
    # a month's visits read household by household (billing runs)
    sa.Index("ix_visits_household_date", "household_id", "date"),
)

# A month's run as finance asked for it: requested, running (an instance holds it while its
# lease lasts), completed (with the revision it produced or found), rejected.
billing_runs = sa.Table(
    "billing_runs",
    metadata,
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

# Each distinct result of a month: inputs' fingerprint, totals, warnings.
billing_revisions = sa.Table(
    "billing_revisions",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("requested_by", sa.String(80), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),  # totals and counts
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Lines of a revision; money as exact decimal strings.
bill_households = sa.Table(
    "bill_households",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("served_days", sa.Integer, nullable=False),
    sa.Column("charge", sa.String(20), nullable=False),
    sa.Column("subsidy", sa.String(20), nullable=False),
    sa.Column("family_share", sa.String(20), nullable=False),
)

bill_shares = sa.Table(
    "bill_shares",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("caregiver_id", sa.String(40), primary_key=True),
    sa.Column("weight", sa.String(40), nullable=False),  # exact, "n/d"
    sa.Column("government", sa.String(20), nullable=False),
    sa.Column("family", sa.String(20), nullable=False),
)

bill_caregivers = sa.Table(
    "bill_caregivers",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("caregiver_id", sa.String(40), primary_key=True),
    sa.Column("days", sa.String(20), nullable=False),
    sa.Column("government_part", sa.String(20), nullable=False),
    sa.Column("family_part", sa.String(20), nullable=False),
    sa.Column("pay", sa.String(20), nullable=False),
)

# What changed against the month's previous revision (kind "revision"), or corrections of a
# closed earlier month carried into this one (kind "correction", of_month that month).
bill_adjustments = sa.Table(
    "bill_adjustments",
    metadata,
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

month_closures = sa.Table(
    "month_closures",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("closed_by", sa.String(80), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
)

# Closed months whose inputs changed after closing: their corrections go into the next run.
late_months = sa.Table(
    "late_months",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
)

# Who the lines are about, for statements and payslips (from dispatch's registrations).
parties_households = sa.Table(
    "parties_households",
    metadata,
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(80), nullable=True),
    sa.Column("address", sa.String(200), nullable=True),
    sa.Column("station_id", sa.String(40), nullable=False),
    sa.Column("street", sa.String(80), nullable=False),
)

parties_caregivers = sa.Table(
    "parties_caregivers",
    metadata,
    sa.Column("caregiver_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("station_id", sa.String(40), nullable=False),
)
