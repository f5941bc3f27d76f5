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
)
