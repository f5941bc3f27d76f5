"""Console tables: who may sign in (users), what they changed (audit_log), the supervisors'
inspection notes, and the outbox its commands leave through (so an audited action and the
command it sends commit together)."""

from __future__ import annotations

import sqlalchemy as sa

from services.infra.bus.tables import plumbing_tables

metadata = sa.MetaData()
plumbing = plumbing_tables(metadata)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("role", sa.String(24), nullable=False),
    # the station a station manager runs; the caregiver a carer is
    sa.Column("station_id", sa.String(40), nullable=True),
    sa.Column("caregiver_id", sa.String(40), nullable=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("user_id", sa.String(40), nullable=False, index=True),
    sa.Column("role", sa.String(24), nullable=False),
    sa.Column("action", sa.String(80), nullable=False),
    sa.Column("target", sa.String(120), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    # the command it sent, if any (its event id on the bus)
    sa.Column("event_id", sa.String(64), nullable=True),
)

# Commands the console sent that a service refused afterwards (its *Rejected events), shown
# to the user who sent them until dismissed; command_id is the audit line's event_id.
refusals = sa.Table(
    "refusals",
    metadata,
    sa.Column("refusal_id", sa.String(64), primary_key=True),
    sa.Column("command_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(80), nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("reason_zh", sa.String(1000), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("dismissed", sa.Boolean, nullable=False),
)

inspection_notes = sa.Table(
    "inspection_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("station_id", sa.String(40), nullable=False, index=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)
