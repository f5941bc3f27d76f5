"""A revision's documents: household statements, caregiver payslips (HTML and PDF), the
subsidy claim summary, and every table as CSV and one XLSX workbook.

``write_documents`` writes them all to a folder (`homecare billing documents`);
``one_document`` makes one of them in memory (a download from the console, over the bus).
Both read billing's own database (its lines, its projection of names and categories) through
``load_revision`` and build the records the same way (``Revision``); the rendering is
services/billing/outputs."""

from __future__ import annotations

import asyncio
import tempfile
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.billing.engine import Policy, PolicySchedule
from services.billing.model import CategoryFrom, category_on, month_bounds
from services.billing.outputs import (
    ClaimRow,
    ClaimSummaryData,
    ClaimTotals,
    PayslipData,
    StatementData,
    claim_file_name,
    payslip_file_name,
    render_claim_html,
    render_claim_pdf,
    render_payslip_html,
    render_payslip_pdf,
    render_statement_html,
    render_statement_pdf,
    statement_file_name,
    write_csv,
    write_xlsx,
)
from services.billing.store import (
    bill_adjustments,
    bill_caregivers,
    bill_households,
    bill_shares,
    billing_revisions,
    categories,
    month_closures,
    parties_caregivers,
    parties_households,
)
from services.infra.bus.store import MessageStore

Progress = Callable[[str, int, int], None]
DocumentData = StatementData | PayslipData | ClaimSummaryData
TableSheet = tuple[list[str], list[list[Any]]]

# The tables of a revision, in the order of the workbook's sheets.
TABLE_NAMES = ("households", "shares", "caregivers", "adjustments")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What one_document makes: kind -> its formats
FORMATS = {
    "statement": ("pdf", "html"),
    "payslip": ("pdf", "html"),
    "claim": ("pdf", "html"),
    "table": ("csv", "xlsx"),
}
_Renderers = tuple[Callable[[Any, str], str], Callable[[Any], str], Callable[[Any], bytes]]
# a record's type -> its (file name, HTML, PDF)
_RENDERERS: dict[type, _Renderers] = {
    StatementData: (statement_file_name, render_statement_html, render_statement_pdf),
    PayslipData: (payslip_file_name, render_payslip_html, render_payslip_pdf),
    ClaimSummaryData: (claim_file_name, render_claim_html, render_claim_pdf),
}


@dataclass
class Written:
    folder: Path
    month: str
    revision: int
    closed: bool
    statements: int = 0
    payslips: int = 0
    files: list[Path] = field(default_factory=list)


class NoRevision(LookupError):
    """The month (or the revision asked for) has no billing run yet."""


class NoParty(LookupError):
    """The revision has no line of the household or caregiver asked for (or no such table)."""


class TooLarge(ValueError):
    """The document is larger than the caller can take."""

    def __init__(self, file_name: str, size: int, limit: int) -> None:
        super().__init__(f"{file_name} is {size:,} bytes, more than {limit:,}")
        self.file_name = file_name
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class Document:
    """One document made in memory."""

    month: str
    revision: int
    closed: bool
    file_name: str
    media_type: str
    body: bytes


def _d(text: str) -> Decimal:
    return Decimal(text)


# -- reading a revision -----------------------------------------------------------------------


@dataclass
class _Lines:
    households: list[Any]
    shares: dict[str, list[Any]]
    caregivers: list[Any]
    adjustments: list[Any]


@dataclass
class Revision:
    """A revision's lines and what its documents say about the parties in them; builds the
    record of each document. Loaded for one household or caregiver, it holds only that
    party's lines (enough for its statement or payslip, not for the claim or the tables)."""

    month: str
    revision: int
    closed: bool
    generated_at: datetime
    policy: Policy
    lines: _Lines
    households: dict[str, Any]  # parties_households rows by id
    caregivers: dict[str, Any]  # parties_caregivers rows by id
    periods: dict[str, list[CategoryFrom]]

    @cached_property
    def first(self) -> date:
        return month_bounds(self.month)[0]

    @cached_property
    def last(self) -> date:
        return month_bounds(self.month)[1]

    def household_name(self, household_id: str) -> str:
        party = self.households.get(household_id)
        return (party.name if party and party.name else "") or household_id

    def caregiver_name(self, caregiver_id: str) -> str:
        party = self.caregivers.get(caregiver_id)
        return party.name if party else caregiver_id

    @cached_property
    def _corrections(self) -> dict[tuple[str, str], list[Any]]:
        found: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for a in self.lines.adjustments:
            if a.kind == "correction":
                found[(a.party, a.party_id)].append(a)
        return found

    @cached_property
    def _households_of(self) -> dict[str, list[tuple[str, Any]]]:
        """Each caregiver's shares as (household id, share), by household id."""
        found: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for h_id, shares in sorted(self.lines.shares.items()):
            for s in shares:
                found[s.caregiver_id].append((h_id, s))
        return found

    def statement(self, h: Any) -> StatementData:
        """The statement of a household line (a bill_households row)."""
        party = self.households.get(h.household_id)
        return StatementData(
            month=self.month,
            revision=self.revision,
            household_id=h.household_id,
            household_name=self.household_name(h.household_id),
            address=(party.address if party and party.address else "") or "",
            station_id=party.station_id if party else "",
            street=party.street if party else "",
            category_periods=_month_periods(
                self.periods.get(h.household_id, []), self.first, self.last
            ),
            served_days=h.served_days,
            days_in_month=self.last.day,
            charge=_d(h.charge),
            subsidy=_d(h.subsidy),
            family_share=_d(h.family_share),
            caregivers=[
                (
                    s.caregiver_id,
                    self.caregiver_name(s.caregiver_id),
                    _weight_days(s.weight),
                    _d(s.government),
                    _d(s.family),
                )
                for s in self.lines.shares.get(h.household_id, [])
            ],
            adjustments=[
                (_correction_text(a), _d(a.family_share))
                for a in self._corrections[("household", h.household_id)]
            ],
            generated_at=self.generated_at,
            monthly_fee=self.policy.monthly_fee,
            subsidy_rates=dict(self.policy.subsidy),
        )

    def payslip(self, c: Any) -> PayslipData:
        """The payslip of a caregiver line (a bill_caregivers row)."""
        party = self.caregivers.get(c.caregiver_id)
        return PayslipData(
            month=self.month,
            revision=self.revision,
            caregiver_id=c.caregiver_id,
            name=self.caregiver_name(c.caregiver_id),
            station_id=party.station_id if party else "",
            households=[
                (
                    h_id,
                    self.household_name(h_id),
                    _weight_days(s.weight),
                    _d(s.government),
                    _d(s.family),
                )
                for h_id, s in self._households_of[c.caregiver_id]
            ],
            government_part=_d(c.government_part),
            family_part=_d(c.family_part),
            pay=_d(c.pay),
            adjustments=[
                (_correction_text(a), _d(a.charge))
                for a in self._corrections[("caregiver", c.caregiver_id)]
            ],
            generated_at=self.generated_at,
        )

    def claim(self, district: str) -> ClaimSummaryData:
        """Per station and street; by category: each household under its category on the
        last day of the month it was enrolled (a household that changed category counts
        once)."""
        rows: dict[tuple[str, str], list[Any]] = defaultdict(list)
        by_category: dict[str, list[Any]] = defaultdict(list)
        for h in self.lines.households:
            party = self.households.get(h.household_id)
            rows[(party.station_id if party else "", party.street if party else "")].append(h)
            category = _last_category(self.periods.get(h.household_id, []), self.last)
            by_category[category or "-"].append(h)

        def sums(items: list[Any]) -> tuple[int, int, Decimal, Decimal, Decimal]:
            return (
                len(items),
                sum(i.served_days for i in items),
                sum((_d(i.charge) for i in items), Decimal("0.00")),
                sum((_d(i.subsidy) for i in items), Decimal("0.00")),
                sum((_d(i.family_share) for i in items), Decimal("0.00")),
            )

        claim_rows = [
            ClaimRow(station, street, *sums(items))
            for (station, street), items in sorted(rows.items())
        ]
        return ClaimSummaryData(
            month=self.month,
            revision=self.revision,
            district=district,
            rows=claim_rows,
            subsidy_by_category={
                category: (len(items), sum(i.served_days for i in items), sums(items)[3])
                for category, items in sorted(by_category.items())
                if category != "-"
            },
            totals=ClaimTotals.from_rows(claim_rows, households=len(self.lines.households)),
            generated_at=self.generated_at,
            closed=self.closed,
        )

    def sheets(self) -> dict[str, TableSheet]:
        """Every table of the revision (headers, rows), by name (``TABLE_NAMES``)."""
        lines = self.lines
        return {
            "households": (
                ["household_id", "served_days", "charge", "subsidy", "family_share"],
                [
                    [
                        h.household_id,
                        h.served_days,
                        _d(h.charge),
                        _d(h.subsidy),
                        _d(h.family_share),
                    ]
                    for h in lines.households
                ],
            ),
            "shares": (
                ["household_id", "caregiver_id", "days", "government", "family"],
                [
                    [h_id, s.caregiver_id, _weight_days(s.weight), _d(s.government), _d(s.family)]
                    for h_id, shares in sorted(lines.shares.items())
                    for s in shares
                ],
            ),
            "caregivers": (
                ["caregiver_id", "days", "government_part", "family_part", "pay"],
                [
                    [
                        c.caregiver_id,
                        _d(c.days),
                        _d(c.government_part),
                        _d(c.family_part),
                        _d(c.pay),
                    ]
                    for c in lines.caregivers
                ],
            ),
            "adjustments": (
                [
                    "line",
                    "kind",
                    "of_month",
                    "party",
                    "party_id",
                    "charge_or_pay",
                    "subsidy_or_government",
                    "family",
                ],
                [
                    [
                        a.line,
                        a.kind,
                        a.of_month,
                        a.party,
                        a.party_id,
                        _d(a.charge),
                        _d(a.subsidy),
                        _d(a.family_share),
                    ]
                    for a in lines.adjustments
                ],
            ),
        }

    def table_file_name(self, ext: str, name: str | None = None) -> str:
        """``billing_2026-11_r1_households.csv``; the workbook of all tables
        ``billing_2026-11_r1.xlsx``."""
        return f"billing_{self.month}_r{self.revision}{f'_{name}' if name else ''}.{ext}"


async def load_revision(
    store: MessageStore,
    month: str,
    schedule: PolicySchedule,
    revision: int | None = None,
    *,
    household: str | None = None,
    caregiver: str | None = None,
) -> Revision:
    """The revision (the latest when ``revision`` is None) with all its lines, or only the
    lines of one ``household`` or one ``caregiver``. NoRevision when there is none."""
    rev = await _revision(store, month, revision)
    closed_rows = await store.read(
        sa.select(month_closures.c.revision).where(month_closures.c.month == month)
    )
    first, last = month_bounds(month)
    lines = await _read_lines(store, month, rev, household=household, caregiver=caregiver)
    household_ids: set[str] | None = None
    caregiver_ids: set[str] | None = None
    if household is not None or caregiver is not None:  # only the parties the lines name
        household_ids = {h.household_id for h in lines.households} | set(lines.shares)
        caregiver_ids = {c.caregiver_id for c in lines.caregivers} | {
            s.caregiver_id for shares in lines.shares.values() for s in shares
        }
    return Revision(
        month=month,
        revision=rev,
        closed=bool(closed_rows) and closed_rows[0].revision == rev,
        generated_at=store.clock.now(),
        policy=schedule.on(first),
        lines=lines,
        households=await _parties(store, parties_households, household_ids),
        caregivers=await _parties(store, parties_caregivers, caregiver_ids),
        periods=await _periods(store, last, household_ids),
    )


async def _revision(store: MessageStore, month: str, revision: int | None) -> int:
    query = sa.select(billing_revisions.c.revision).where(billing_revisions.c.month == month)
    if revision is not None:
        query = query.where(billing_revisions.c.revision == revision)
    rows = await store.read(query.order_by(billing_revisions.c.revision.desc()).limit(1))
    if not rows:
        what = f"revision {revision} of {month}" if revision else month
        raise NoRevision(f"{what} has no billing run: run it first (homecare billing run)")
    return int(rows[0].revision)


async def _read_lines(
    store: MessageStore,
    month: str,
    rev: int,
    household: str | None = None,
    caregiver: str | None = None,
) -> _Lines:
    """All the revision's lines, or only those of one household (its line, its shares, its
    adjustments) or one caregiver (the same of the caregiver)."""

    def of(table: sa.Table, **only: str | None) -> Any:
        return sa.and_(
            table.c.month == month,
            table.c.revision == rev,
            *(table.c[column] == value for column, value in only.items() if value is not None),
        )

    party: dict[str, str | None] = {}
    if household is not None:
        party = {"party": "household", "party_id": household}
    elif caregiver is not None:
        party = {"party": "caregiver", "party_id": caregiver}
    households: list[Any] = []
    if caregiver is None:
        households = await store.read(
            sa.select(bill_households)
            .where(of(bill_households, household_id=household))
            .order_by(bill_households.c.household_id)
        )
    shares: dict[str, list[Any]] = defaultdict(list)
    for s in await store.read(
        sa.select(bill_shares)
        .where(of(bill_shares, household_id=household, caregiver_id=caregiver))
        .order_by(bill_shares.c.household_id, bill_shares.c.caregiver_id)
    ):
        shares[s.household_id].append(s)
    caregivers: list[Any] = []
    if household is None:
        caregivers = await store.read(
            sa.select(bill_caregivers)
            .where(of(bill_caregivers, caregiver_id=caregiver))
            .order_by(bill_caregivers.c.caregiver_id)
        )
    adjustments = await store.read(
        sa.select(bill_adjustments)
        .where(of(bill_adjustments, **party))
        .order_by(bill_adjustments.c.line)
    )
    return _Lines(list(households), dict(shares), list(caregivers), list(adjustments))


async def _parties(store: MessageStore, table: sa.Table, ids: set[str] | None) -> dict[str, Any]:
    """Names and places of the parties ``ids`` (all of them when None), by id."""
    [key] = table.primary_key.columns
    if ids is not None and not ids:
        return {}
    query = sa.select(table)
    if ids is not None:
        query = query.where(key.in_(sorted(ids)))
    return {getattr(r, key.name): r for r in await store.read(query)}


async def _periods(
    store: MessageStore, last: date, households: set[str] | None = None
) -> dict[str, list[CategoryFrom]]:
    query = sa.select(categories).where(categories.c.from_date <= last)
    if households is not None:
        query = query.where(categories.c.household_id.in_(sorted(households)))
    found: dict[str, list[CategoryFrom]] = defaultdict(list)
    for r in await store.read(query.order_by(categories.c.household_id, categories.c.from_date)):
        found[r.household_id].append(CategoryFrom(r.household_id, r.from_date, r.category))
    return found


def _month_periods(
    periods: list[CategoryFrom], first: date, last: date
) -> list[tuple[date, date, str | None]]:
    """The household's categories within the month as (from, to inclusive, category)."""
    out: list[tuple[date, date, str | None]] = []
    day = first
    while day <= last:
        category = category_on(periods, day)
        end = day
        while end < last and category_on(periods, end + timedelta(days=1)) == category:
            end += timedelta(days=1)
        out.append((day, end, category))
        day = end + timedelta(days=1)
    return out


def _weight_days(weight: str) -> Decimal:
    numerator, _, denominator = weight.partition("/")
    exact = Decimal(int(numerator)) / Decimal(int(denominator or 1))
    return exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def _correction_text(adjustment: Any) -> str:
    return f"更正 {adjustment.of_month} 结算 (correction of {adjustment.of_month})"


def _last_category(periods: list[CategoryFrom], last: date) -> str | None:
    day = last
    while day.day >= 1:
        category = category_on(periods, day)
        if category is not None or day.day == 1:
            return category
        day -= timedelta(days=1)
    return None


# -- rendering --------------------------------------------------------------------------------


def render_document(data: DocumentData, ext: str) -> tuple[str, bytes]:
    """A statement, payslip or claim summary as ``ext`` (html or pdf): its file name and
    bytes."""
    file_name, html, pdf = _RENDERERS[type(data)]
    return file_name(data, ext), html(data).encode() if ext == "html" else pdf(data)


def _export(path: Path, sheets: dict[str, TableSheet]) -> None:
    """Tables into one file: a CSV (of the one table given) or an XLSX workbook."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        [(headers, rows)] = sheets.values()
        write_csv(path, headers, rows)
    else:
        write_xlsx(path, sheets)


# -- a revision's documents in a folder ----------------------------------------------------


async def write_documents(
    store: MessageStore,
    month: str,
    out: Path,
    schedule: PolicySchedule,
    district: str,
    revision: int | None = None,
    households: Collection[str] | None = None,
    caregivers: Collection[str] | None = None,
    statements: bool = True,
    payslips: bool = True,
    progress: Progress | None = None,
) -> Written:
    """Write the revision's documents (the latest when ``revision`` is None) under
    ``out/<month>/r<revision>/``; ``households``/``caregivers`` limit the statements and
    payslips to those (the claim summary and the tables are always whole)."""
    report = progress or (lambda *_: None)
    rev = await load_revision(store, month, schedule, revision)
    folder = out / month / f"r{rev.revision}"
    folder.mkdir(parents=True, exist_ok=True)
    written = Written(folder, month, rev.revision, rev.closed)

    def write_both(data: DocumentData, under: Path) -> None:
        for ext in ("html", "pdf"):
            name, body = render_document(data, ext)
            _write(under / name, body, written)

    if statements:
        chosen = [
            h for h in rev.lines.households if households is None or h.household_id in households
        ]
        for n, h in enumerate(chosen, start=1):
            write_both(rev.statement(h), folder / "statements")
            written.statements += 1
            report("statements 结算单", n, len(chosen))

    if payslips:
        chosen_c = [
            c for c in rev.lines.caregivers if caregivers is None or c.caregiver_id in caregivers
        ]
        for n, c in enumerate(chosen_c, start=1):
            write_both(rev.payslip(c), folder / "payslips")
            written.payslips += 1
            report("payslips 工资单", n, len(chosen_c))

    write_both(rev.claim(district), folder)
    sheets = rev.sheets()
    for name, sheet in sheets.items():
        path = folder / "tables" / rev.table_file_name("csv", name)
        _export(path, {name: sheet})
        written.files.append(path)
    book = folder / "tables" / rev.table_file_name("xlsx")
    _export(book, sheets)
    written.files.append(book)
    return written


def _write(path: Path, body: bytes, written: Written) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    written.files.append(path)


# -- one document in memory -----------------------------------------------------------------


async def one_document(
    store: MessageStore,
    schedule: PolicySchedule,
    district: str,
    month: str,
    kind: str,
    ext: str,
    party_id: str | None = None,
    revision: int | None = None,
    max_bytes: int | None = None,
) -> Document:
    """One document of the revision (the latest when ``revision`` is None), made in memory:
    a ``statement`` (``party_id`` a household) or ``payslip`` (a caregiver) or the
    ``claim`` summary (no party) as html or pdf, or a ``table`` as csv (``party_id`` one of
    ``TABLE_NAMES``) or xlsx (that table, or the workbook of all of them when None).

    Reads only the lines the document needs. NoRevision, NoParty when there is no such
    revision, party or table; TooLarge when it would be more than ``max_bytes``."""
    if ext not in FORMATS.get(kind, ()):
        raise ValueError(f"no {kind} as {ext}")
    if kind in ("statement", "payslip") and party_id is None:
        raise ValueError(f"a {kind} needs the id of its party")
    if kind == "table" and party_id is None and ext == "csv":
        raise ValueError("a CSV file holds one table: name it")
    if kind == "table" and party_id is not None and party_id not in TABLE_NAMES:
        raise NoParty(f"no table {party_id}: one of {', '.join(TABLE_NAMES)}")
    rev = await load_revision(
        store,
        month,
        schedule,
        revision,
        household=party_id if kind == "statement" else None,
        caregiver=party_id if kind == "payslip" else None,
    )
    file_name, body = await asyncio.to_thread(_made, rev, district, kind, ext, party_id, max_bytes)
    if max_bytes is not None and len(body) > max_bytes:
        raise TooLarge(file_name, len(body), max_bytes)
    return Document(rev.month, rev.revision, rev.closed, file_name, MEDIA_TYPES[ext], body)


def _made(
    rev: Revision,
    district: str,
    kind: str,
    ext: str,
    party_id: str | None,
    max_bytes: int | None,
) -> tuple[str, bytes]:
    """The document's file name and bytes (rendering takes a while: run in a thread)."""
    if kind == "statement":
        household = next((h for h in rev.lines.households if h.household_id == party_id), None)
        if household is None:
            raise NoParty(f"household {party_id} has no bill in {rev.month} r{rev.revision}")
        return render_document(rev.statement(household), ext)
    if kind == "payslip":
        caregiver = next((c for c in rev.lines.caregivers if c.caregiver_id == party_id), None)
        if caregiver is None:
            raise NoParty(f"caregiver {party_id} has no pay in {rev.month} r{rev.revision}")
        return render_document(rev.payslip(caregiver), ext)
    if kind == "claim":
        return render_document(rev.claim(district), ext)
    sheets = rev.sheets()
    chosen = sheets if party_id is None else {party_id: sheets[party_id]}
    file_name = rev.table_file_name(ext, party_id)
    with tempfile.TemporaryDirectory(prefix="homecare-billing-") as folder:
        path = Path(folder) / file_name
        _export(path, chosen)
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:  # not read into memory at all
            raise TooLarge(file_name, size, max_bytes)
        return file_name, path.read_bytes()
