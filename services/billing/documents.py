"""A revision's documents on disk: household statements, caregiver payslips (HTML and PDF),
the subsidy claim summary, and every table as CSV and one XLSX workbook.

Read from billing's own database (its lines, its projection of names and categories); the
rendering is services/billing/outputs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.billing.engine import PolicySchedule
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


def _d(text: str) -> Decimal:
    return Decimal(text)


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
    rev = await _revision(store, month, revision)
    closed_rows = await store.read(
        sa.select(month_closures.c.revision).where(month_closures.c.month == month)
    )
    closed = bool(closed_rows) and closed_rows[0].revision == rev
    folder = out / month / f"r{rev}"
    folder.mkdir(parents=True, exist_ok=True)
    written = Written(folder, month, rev, closed)
    now = store.clock.now()
    first, last = month_bounds(month)
    lines = await _read_lines(store, month, rev)
    names = {r.household_id: r for r in await store.read(sa.select(parties_households))}
    carer_names = {r.caregiver_id: r for r in await store.read(sa.select(parties_caregivers))}
    periods = await _periods(store, last)
    policy = schedule.on(first)

    def household_name(h: str) -> str:
        party = names.get(h)
        return (party.name if party and party.name else "") or h

    def caregiver_name(c: str) -> str:
        party = carer_names.get(c)
        return party.name if party else c

    corrections = defaultdict(list)
    for a in lines.adjustments:
        if a.kind == "correction":
            corrections[(a.party, a.party_id)].append(a)

    if statements:
        chosen = [h for h in lines.households if households is None or h.household_id in households]
        for n, h in enumerate(chosen, start=1):
            party = names.get(h.household_id)
            data = StatementData(
                month=month,
                revision=rev,
                household_id=h.household_id,
                household_name=household_name(h.household_id),
                address=(party.address if party and party.address else "") or "",
                station_id=party.station_id if party else "",
                street=party.street if party else "",
                category_periods=_month_periods(periods.get(h.household_id, []), first, last),
                served_days=h.served_days,
                days_in_month=last.day,
                charge=_d(h.charge),
                subsidy=_d(h.subsidy),
                family_share=_d(h.family_share),
                caregivers=[
                    (
                        s.caregiver_id,
                        caregiver_name(s.caregiver_id),
                        _weight_days(s.weight),
                        _d(s.government),
                        _d(s.family),
                    )
                    for s in lines.shares.get(h.household_id, [])
                ],
                adjustments=[
                    (
                        f"更正 {a.of_month} 结算 (correction of {a.of_month})",
                        _d(a.family_share),
                    )
                    for a in corrections[("household", h.household_id)]
                ],
                generated_at=now,
                monthly_fee=policy.monthly_fee,
                subsidy_rates=dict(policy.subsidy),
            )
            for ext, body in (
                ("html", render_statement_html(data).encode()),
                ("pdf", render_statement_pdf(data)),
            ):
                path = folder / "statements" / statement_file_name(data, ext)
                _write(path, body, written)
            written.statements += 1
            report("statements 结算单", n, len(chosen))

    if payslips:
        households_of: dict[str, list[Any]] = defaultdict(list)
        for h_id, shares in lines.shares.items():
            for s in shares:
                households_of[s.caregiver_id].append((h_id, s))
        chosen_c = [
            c for c in lines.caregivers if caregivers is None or c.caregiver_id in caregivers
        ]
        for n, c in enumerate(chosen_c, start=1):
            party = carer_names.get(c.caregiver_id)
            slip = PayslipData(
                month=month,
                revision=rev,
                caregiver_id=c.caregiver_id,
                name=caregiver_name(c.caregiver_id),
                station_id=party.station_id if party else "",
                households=[
                    (
                        h_id,
                        household_name(h_id),
                        _weight_days(s.weight),
                        _d(s.government),
                        _d(s.family),
                    )
                    for h_id, s in sorted(households_of[c.caregiver_id], key=lambda x: x[0])
                ],
                government_part=_d(c.government_part),
                family_part=_d(c.family_part),
                pay=_d(c.pay),
                adjustments=[
                    (f"更正 {a.of_month} 结算 (correction of {a.of_month})", _d(a.charge))
                    for a in corrections[("caregiver", c.caregiver_id)]
                ],
                generated_at=now,
            )
            for ext, body in (
                ("html", render_payslip_html(slip).encode()),
                ("pdf", render_payslip_pdf(slip)),
            ):
                _write(folder / "payslips" / payslip_file_name(slip, ext), body, written)
            written.payslips += 1
            report("payslips 工资单", n, len(chosen_c))

    claim = _claim(month, rev, district, closed, now, lines, names, periods, last)
    _write(folder / claim_file_name(claim, "html"), render_claim_html(claim).encode(), written)
    _write(folder / claim_file_name(claim, "pdf"), render_claim_pdf(claim), written)
    await _tables(folder, month, rev, lines, written)
    return written


@dataclass
class _Lines:
    households: list[Any]
    shares: dict[str, list[Any]]
    caregivers: list[Any]
    adjustments: list[Any]


async def _revision(store: MessageStore, month: str, revision: int | None) -> int:
    query = sa.select(billing_revisions.c.revision).where(billing_revisions.c.month == month)
    if revision is not None:
        query = query.where(billing_revisions.c.revision == revision)
    rows = await store.read(query.order_by(billing_revisions.c.revision.desc()).limit(1))
    if not rows:
        what = f"revision {revision} of {month}" if revision else month
        raise NoRevision(f"{what} has no billing run: run it first (homecare billing run)")
    return int(rows[0].revision)


async def _read_lines(store: MessageStore, month: str, rev: int) -> _Lines:
    def of(table: sa.Table) -> Any:
        return (table.c.month == month) & (table.c.revision == rev)

    households = await store.read(
        sa.select(bill_households)
        .where(of(bill_households))
        .order_by(bill_households.c.household_id)
    )
    shares: dict[str, list[Any]] = defaultdict(list)
    for s in await store.read(
        sa.select(bill_shares)
        .where(of(bill_shares))
        .order_by(bill_shares.c.household_id, bill_shares.c.caregiver_id)
    ):
        shares[s.household_id].append(s)
    caregivers = await store.read(
        sa.select(bill_caregivers)
        .where(of(bill_caregivers))
        .order_by(bill_caregivers.c.caregiver_id)
    )
    adjustments = await store.read(
        sa.select(bill_adjustments).where(of(bill_adjustments)).order_by(bill_adjustments.c.line)
    )
    return _Lines(list(households), dict(shares), list(caregivers), list(adjustments))


async def _periods(store: MessageStore, last: date) -> dict[str, list[CategoryFrom]]:
    found: dict[str, list[CategoryFrom]] = defaultdict(list)
    for r in await store.read(
        sa.select(categories)
        .where(categories.c.from_date <= last)
        .order_by(categories.c.household_id, categories.c.from_date)
    ):
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


def _claim(
    month: str,
    rev: int,
    district: str,
    closed: bool,
    now: Any,
    lines: _Lines,
    names: dict[str, Any],
    periods: dict[str, list[CategoryFrom]],
    last: date,
) -> ClaimSummaryData:
    """Per station and street; by category: each household under its category on the last
    day of the month it was enrolled (a household that changed category counts once)."""
    rows: dict[tuple[str, str], list[Any]] = defaultdict(list)
    by_category: dict[str, list[Any]] = defaultdict(list)
    for h in lines.households:
        party = names.get(h.household_id)
        rows[(party.station_id if party else "", party.street if party else "")].append(h)
        category = _last_category(periods.get(h.household_id, []), last)
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
        ClaimRow(station, street, *sums(items)) for (station, street), items in sorted(rows.items())
    ]
    return ClaimSummaryData(
        month=month,
        revision=rev,
        district=district,
        rows=claim_rows,
        subsidy_by_category={
            category: (len(items), sum(i.served_days for i in items), sums(items)[3])
            for category, items in sorted(by_category.items())
            if category != "-"
        },
        totals=ClaimTotals.from_rows(claim_rows, households=len(lines.households)),
        generated_at=now,
        closed=closed,
    )


def _last_category(periods: list[CategoryFrom], last: date) -> str | None:
    day = last
    while day.day >= 1:
        category = category_on(periods, day)
        if category is not None or day.day == 1:
            return category
        day -= timedelta(days=1)
    return None


async def _tables(folder: Path, month: str, rev: int, lines: _Lines, written: Written) -> None:
    sheets: dict[str, tuple[list[str], list[list[Any]]]] = {
        "households": (
            ["household_id", "served_days", "charge", "subsidy", "family_share"],
            [
                [h.household_id, h.served_days, _d(h.charge), _d(h.subsidy), _d(h.family_share)]
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
                [c.caregiver_id, _d(c.days), _d(c.government_part), _d(c.family_part), _d(c.pay)]
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
    for name, (headers, rows) in sheets.items():
        path = folder / "tables" / f"billing_{month}_r{rev}_{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(path, headers, rows)
        written.files.append(path)
    book = folder / "tables" / f"billing_{month}_r{rev}.xlsx"
    write_xlsx(book, sheets)
    written.files.append(book)


def _write(path: Path, body: bytes, written: Written) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    written.files.append(path)
