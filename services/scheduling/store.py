"""Scheduling tables (the service's own)."""

from __future__ import annotations

import sqlalchemy as sa

from services.infra.bus.tables import plumbing_tables
from services.infra.jobs import job_runs_table

metadata = sa.MetaData()
plumbing = plumbing_tables(metadata)
job_runs = job_runs_table(metadata)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("assignment_id", sa.String(64), primary_key=True),
    sa.Column("household_id", sa.String(40), nullable=False, index=True),
    # a caregiver's households (leave); without it a city's leave scans every assignment
    sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
    sa.Column("station_id", sa.String(40), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("visit_start", sa.Time, nullable=False),
    sa.Column("visit_end", sa.Time, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)

shifts = sa.Table(
    "shifts",
    metadata,
    sa.Column("shift_id", sa.String(80), primary_key=True),
    sa.Column("assignment_id", sa.String(64), nullable=False),
    sa.Column("household_id", sa.String(40), nullable=False),
    sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
    sa.Column("date", sa.Date, nullable=False, index=True),
    sa.Column("visit_start", sa.Time, nullable=False),
    sa.Column("visit_end", sa.Time, nullable=False),
    sa.Column("visited", sa.Boolean, nullable=False),
    # the check-in that began the visit (CheckIn); the visit is recorded at check-out
    sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("check_in_latitude", sa.Float, nullable=True),
    sa.Column("check_in_longitude", sa.Float, nullable=True),
    # the caregiver's phone confirmed it received the shift message
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    # VisitMissed was sent (once per shift)
    sa.Column("missed_alerted", sa.Boolean, nullable=False, server_default=sa.false()),
    # the public holiday (法定节假日) of its date, when there is one
    sa.Column("holiday", sa.String(40), nullable=True),
)

# The visit window a household asked for on public holidays (SetHolidayWindow).
holiday_windows = sa.Table(
    "holiday_windows",
    metadata,
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("visit_start", sa.Time, nullable=False),
    sa.Column("visit_end", sa.Time, nullable=False),
    sa.Column("requested_by", sa.String(80), nullable=False),
)

visits = sa.Table(
    "visits",
    metadata,
    sa.Column("visit_id", sa.String(80), primary_key=True),
    sa.Column("shift_id", sa.String(80), nullable=False, unique=True),
    sa.Column("household_id", sa.String(40), nullable=False),
    sa.Column("caregiver_id", sa.String(40), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("latitude", sa.Float, nullable=True),
    sa.Column("longitude", sa.Float, nullable=True),
)

# Days a household asked for no visit (hospital, away): no shifts are made for them.
pauses = sa.Table(
    "pauses",
    metadata,
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("first_day", sa.Date, primary_key=True),
    sa.Column("last_day", sa.Date, nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("note", sa.String(500), nullable=True),
)

leaves = sa.Table(
    "leaves",
    metadata,
    sa.Column("leave_id", sa.String(40), primary_key=True),
    sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
    sa.Column("first_day", sa.Date, nullable=False),
    sa.Column("last_day", sa.Date, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # requested | approved | refused
    sa.Column("decided_by", sa.String(80), nullable=True),
    sa.Column("decision_reason", sa.String(500), nullable=True),
)

# Who covers a household on which days while its caregiver is on leave (from dispatch).
substitutions = sa.Table(
    "substitutions",
    metadata,
    sa.Column("substitute_request_id", sa.String(40), primary_key=True),
    sa.Column("household_id", sa.String(40), nullable=False, index=True),
    sa.Column("caregiver_id", sa.String(40), nullable=False),
    sa.Column("replaces", sa.String(40), nullable=False),
    sa.Column("first_day", sa.Date, nullable=False),
    sa.Column("last_day", sa.Date, nullable=False),
    # the caregiver the station chose, and why dispatch did not take them (if it did not)
    sa.Column("preferred_caregiver_id", sa.String(40), nullable=True),
    sa.Column("preference_reason", sa.String(500), nullable=True),
)

satisfaction = sa.Table(
    "satisfaction",
    metadata,
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("caregiver_id", sa.String(40), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("recorded_by", sa.String(80), nullable=False),
)

complaints = sa.Table(
    "complaints",
    metadata,
    sa.Column("complaint_id", sa.String(64), primary_key=True),
    sa.Column("household_id", sa.String(40), nullable=False),
    sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("text", sa.String(1000), nullable=False),
    sa.Column("recorded_by", sa.String(80), nullable=False),
)

appraisals = sa.Table(
    "appraisals",
    metadata,
    sa.Column("caregiver_id", sa.String(40), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)

diaries = sa.Table(
    "diaries",
    metadata,
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("caregiver_id", sa.String(40), nullable=False),
    sa.Column("appetite", sa.String(8), nullable=False),
    sa.Column("mood", sa.String(10), nullable=False),
    sa.Column("entry", sa.JSON, nullable=False),  # the whole RecordDiary, as sent
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# Money as decimal strings (exact); balance: the household's cash the caregiver holds after it.
ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("entry_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),  # order within the household's ledger
    sa.Column("household_id", sa.String(40), nullable=False, index=True),
    sa.Column("caregiver_id", sa.String(40), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("amount", sa.String(20), nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("balance", sa.String(20), nullable=False),
    sa.UniqueConstraint("household_id", "seq", name="uq_ledger_entries_household_seq"),
)

generated_days = sa.Table(
    "generated_days",
    metadata,
    sa.Column("date", sa.Date, primary_key=True),
)
