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
    sa.Column("street", sa.String(80), nullable=False),
    sa.Column("sex", sa.String(1), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("profile", sa.JSON, nullable=True),  # the whole registration, as sent
)

households = sa.Table(
    "households",
    metadata,
    sa.Column("household_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("station_id", sa.String(40), nullable=False),
    sa.Column("street", sa.String(80), nullable=False),
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
    sa.Column("status", sa.String(16), nullable=False),  # assigned | unmet
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("assignment_id", sa.String(40), primary_key=True),
    sa.Column("request_id", sa.String(40), nullable=False, unique=True),
    sa.Column("household_id", sa.String(40), nullable=False, index=True),
    sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)
