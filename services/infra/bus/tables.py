"""The outbox, inbox and dead-letter tables every service keeps in its own database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class PlumbingTables:
    outbox: sa.Table
    inbox: sa.Table
    dead_letters: sa.Table


def _outbox_columns() -> list[Any]:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _inbox_columns() -> list[Any]:
    return [
        sa.Column("consumer", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _dead_letter_columns() -> list[Any]:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("consumer", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
    ]


def plumbing_tables(metadata: sa.MetaData) -> PlumbingTables:
    return PlumbingTables(
        outbox=sa.Table("outbox", metadata, *_outbox_columns()),
        inbox=sa.Table("inbox", metadata, *_inbox_columns()),
        dead_letters=sa.Table("dead_letters", metadata, *_dead_letter_columns()),
    )


def create_plumbing_tables(op: Any) -> None:
    """Migration step shared by every service's first revision (alembic ``op``)."""
    op.create_table("outbox", *_outbox_columns())
    op.create_table("inbox", *_inbox_columns())
    op.create_table("dead_letters", *_dead_letter_columns())
