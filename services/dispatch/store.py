"""Dispatch tables (the service's own) and the queries its handlers need."""

from __future__ import annotations

import sqlalchemy as sa

from services.infra.bus.tables import plumbing_tables

metadata = sa.MetaData()
plumbing = plumbing_tables(metadata)

caregivers = sa.Table(
    "caregivers",
    metadata,
    sa.Column("caregiver_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("station_id", sa.String(40), nullable=False),
    sa.Column("street", sa.String(80), nullable=False, index=True),
    sa.Column("sex", sa.String(1), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("profile", sa.JSON, nullable=True),  # the whole registration, as sent
    # the latest monthly appraisal from scheduling (CaregiverAppraised); before the first,
    # the registration's appraisal_score, if any
    sa.Column("appraisal_score", sa.Float, nullable=True),
    sa.Column("appraised_month", sa.String(7), nullable=True),
)

# One row per street with caregivers: a fresh token each time any of its caregivers changes,
# so a cached roster (facts.py) is known to be current with a single key lookup.
street_rosters = sa.Table(
    "street_rosters",
    metadata,
    sa.Column("street", sa.String(80), primary_key=True),
    sa.Column("token", sa.String(32), nullable=False),
)

households = sa.Table(
    "households",
    metadata,
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("station_id", sa.String(40), nullable=False),
    sa.Column("street", sa.String(80), nullable=False, index=True),
    sa.Column("category", sa.String(1), nullable=True),
    sa.Column("enrolled_on", sa.Date, nullable=False),
    sa.Column("visit_start", sa.Time, nullable=False),
    sa.Column("visit_end", sa.Time, nullable=False),
    sa.Column("profile", sa.JSON, nullable=True),  # the whole registration, as sent
)

care_requests = sa.Table(
    "care_requests",
    metadata,
    sa.Column("request_id", sa.String(40), primary_key=True),
    sa.Column("household_id", sa.String(40), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # open | assigned | unmet
    sa.Column("mode", sa.String(16), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("assignment_id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(40), nullable=False, unique=True),
    sa.Column("household_id", sa.String(40), nullable=False, index=True),
    sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("ended_on", sa.Date, nullable=True),
    sa.Column("end_reason", sa.String(16), nullable=True),  # replaced | ...
    sa.Column("decided_by", sa.String(80), nullable=True),
    sa.Column("override_reason", sa.Text, nullable=True),
)

# Who decided what, when: every confirmation, override, batch, replacement and approval step.
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("subject_id", sa.String(80), nullable=False, index=True),
    sa.Column("detail", sa.JSON, nullable=False),
)

shortlists = sa.Table(
    "shortlists",
    metadata,
    sa.Column("request_id", sa.String(40), primary_key=True),
    sa.Column("candidates", sa.JSON, nullable=False),  # [{caregiver_id, rank, total, ...}]
    sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
    # caregivers ruled out, counted by hard constraint ({code: n}); null before 0006
    sa.Column("blocked", sa.JSON, nullable=True),
)

leaves = sa.Table(
    "leaves",
    metadata,
    sa.Column("caregiver_id", sa.String(40), primary_key=True),
    sa.Column("first_day", sa.Date, primary_key=True),
    sa.Column("last_day", sa.Date, nullable=False),
)

substitutes = sa.Table(
    "substitutes",
    metadata,
    sa.Column("substitute_request_id", sa.String(40), primary_key=True),
    sa.Column("household_id", sa.String(40), nullable=False, index=True),
    sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
    sa.Column("replaces", sa.String(40), nullable=False),
    sa.Column("first_day", sa.Date, nullable=False),
    sa.Column("last_day", sa.Date, nullable=False),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("application_id", sa.String(40), primary_key=True),
    sa.Column("household_id", sa.String(40), nullable=False, index=True),
    sa.Column("round", sa.String(7), nullable=False, index=True),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("form", sa.JSON, nullable=False),
    sa.Column("category", sa.String(1), nullable=True),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("monthly_subsidy", sa.String(20), nullable=False),
    sa.Column("child_caregiver_id", sa.String(40), nullable=True),
    # assessed -> approved | refused | notice -> (confirmed | investigation)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("decided_by", sa.String(80), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("application_id", sa.String(40), primary_key=True),
    sa.Column("posted_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # posted | objected | confirmed
    sa.Column("objection", sa.Text, nullable=True),
)
