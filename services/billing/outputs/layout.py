"""A document laid out once, rendered twice: the HTML template and the PDF read the same model.

Each document module (statements, payslips, claims) turns its data record into a
:class:`Document`: texts already formatted (money with 2 decimals and thousands separators), so
the HTML and the PDF of a document always show the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Label:
    """A bilingual label: Chinese first, English in smaller type."""

    zh: str
    en: str


@dataclass(frozen=True)
class Column:
    label: Label
    numeric: bool = False
    weight: float = 1.0  # share of the table's width (PDF)


@dataclass(frozen=True)
class Table:
    title: Label
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    total: tuple[str, ...] | None = None  # the totals row, shown last and ruled
    empty: Label | None = None  # shown instead of the table when there are no rows

    def total_cells(self) -> tuple[tuple[str, int, bool], ...]:
        """The totals row as (text, columns spanned, numeric): the label in the first cell
        spans the empty cells after it."""
        if self.total is None:
            return ()
        span = 1
        while span < len(self.total) and self.total[span] == "":
            span += 1
        cells = [(self.total[0], span, self.columns[0].numeric and span == 1)]
        cells += [(self.total[i], 1, self.columns[i].numeric) for i in range(span, len(self.total))]
        return tuple(cells)


@dataclass(frozen=True)
class Item:
    label: Label
    value: str


@dataclass(frozen=True)
class Document:
    programme: Label
    title: Label
    month: str
    month_label: str
    revision: int
    generated_at: str
    parties: tuple[Item, ...]  # who and where: household, caregiver, district
    summary: tuple[Item, ...]  # the key figures, in boxes
    tables: tuple[Table, ...]
    notes_title: Label
    notes: tuple[Label, ...]
    signatures: tuple[Label, ...]
    due: Item | None = None  # the amount to pay, emphasised after the tables
    addressee: Label | None = None
    draft: bool = False
    meta: dict[str, str] = field(default_factory=dict)  # PDF metadata: subject, keywords


PROGRAMME = Label("居家养老服务", "Community Home-Care Programme")
DRAFT = Label("草稿", "DRAFT")
NOTES = Label("计算说明", "How the amounts are computed")


def shown_time(moment: datetime) -> str:
    """``2026-12-01 06:00`` (with the UTC offset when the datetime has one)."""
    text = moment.strftime("%Y-%m-%d %H:%M")
    offset = moment.strftime("%z")
    return f"{text} {offset[:3]}:{offset[3:]}" if offset else text


def revision_label(revision: int) -> Label:
    return Label(f"第{revision}版", f"revision {revision}")


def category_label(category: str | None) -> str:
    return "未纳入服务 not enrolled" if category is None else f"{category}类"
