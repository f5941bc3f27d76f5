"""Scheduling's answers to queries (request/reply, read only): the station's board of a day,
leave requests, diaries and ledgers, and the month's appraisal inputs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.scheduling.queries_v1 import (
    AppraisalLine,
    AppraisalScore,
    AppraisalsList,
    AppraisalsQuery,
    ComplaintEntry,
    DiariesList,
    DiariesQuery,
    DiaryLine,
    DiaryWarning,
    LeaveLine,
    LeaveList,
    LeaveQuery,
    LedgerBalance,
    LedgerLine,
    SatisfactionEntry,
    SubstituteLine,
)
from contracts.scheduling.v1 import ShiftLine, ShiftsOfDay, ShiftsQuery
from services.infra.bus.store import MessageStore
from services.infra.clock import in_zone
from services.scheduling.appraisal import VisitFacts, appraise
from services.scheduling.diary import NO_APPETITE_DAYS, diary_warning
from services.scheduling.leave import substitute_request_id
from services.scheduling.model import is_missed
from services.scheduling.store import (
    appraisals,
    assignments,
    complaints,
    diaries,
    leaves,
    ledger_entries,
    pauses,
    satisfaction,
    shifts,
    substitutions,
    visits,
)

# Bytes of lines one reply may carry: NATS refuses messages over max_payload (1 MB by default
# and in deploy/), and a refused reply reaches the asker as a time-out, not as an answer.
REPLY_BUDGET = 900_000
# Stored leave status -> the status the console sees, and back.
LEAVE_STATUS = {"requested": "pending", "approved": "approved", "refused": "rejected"}
STORED_STATUS = {shown: stored for stored, shown in LEAVE_STATUS.items()}
_CHUNK = 500  # ids per IN (...) list: SQLite's limit on bound parameters can be low

Line = TypeVar("Line", bound=BaseModel)


async def shifts_of_day(store: MessageStore, query: ShiftsQuery, grace: timedelta) -> ShiftsOfDay:
    """The station's board for a day (or one caregiver's day): each shift with scheduled /
    checked_in / done / missed (no check-in by the end of the window plus ``grace``, on the
    service clock) and the check-in and check-out times when known."""
    select = (
        sa.select(shifts, assignments.c.station_id, assignments.c.address, visits.c.checked_out_at)
        .join(assignments, assignments.c.assignment_id == shifts.c.assignment_id)
        .outerjoin(visits, visits.c.shift_id == shifts.c.shift_id)
        .where(shifts.c.date == query.date)
        .order_by(assignments.c.station_id, shifts.c.visit_start, shifts.c.household_id)
    )
    if query.station_id:
        select = select.where(assignments.c.station_id == query.station_id)
    if query.caregiver_id:
        select = select.where(shifts.c.caregiver_id == query.caregiver_id)
    tz = store.clock.tz
    now = store.clock.now()
    lines = []
    holiday = None
    for row in await store.read(select):
        holiday = holiday or row.holiday
        if row.visited:
            status = "done"
        elif row.checked_in_at is not None:
            status = "checked_in"
        elif is_missed(row.date, row.visit_end, grace, now):
            status = "missed"
        else:
            status = "scheduled"
        lines.append(
            ShiftLine(
                shift_id=row.shift_id,
                household_id=row.household_id,
                caregiver_id=row.caregiver_id,
                station_id=row.station_id,
                address=row.address,
                visit_window=(row.visit_start, row.visit_end),
                status=status,
                acknowledged=row.acknowledged_at is not None,
                checked_in_at=_zoned(row.checked_in_at, tz),
                checked_out_at=_zoned(row.checked_out_at, tz),
            )
        )
    return ShiftsOfDay(date=query.date, station_id=query.station_id, shifts=lines, holiday=holiday)


# -- leave ---------------------------------------------------------------------------------


async def leave_list(store: MessageStore, query: LeaveQuery) -> LeaveList:
    """Leave requests, newest first, each with its affected visits and the substitutes
    dispatch has assigned so far. A caregiver's station is the one of their assignments."""
    select = sa.select(leaves).order_by(
        leaves.c.first_day.desc(), leaves.c.caregiver_id, leaves.c.leave_id
    )
    if query.status:
        select = select.where(leaves.c.status == STORED_STATUS[query.status])
    if query.station_id:
        select = select.where(
            leaves.c.caregiver_id.in_(_of_station(assignments.c.caregiver_id, query.station_id))
        )
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select)).all()
        caregivers = sorted({row.caregiver_id for row in rows})
        stations = await _stations(conn, assignments.c.caregiver_id, caregivers)
        if query.station_id:
            rows = [row for row in rows if stations.get(row.caregiver_id) == query.station_id]
            caregivers = sorted({row.caregiver_id for row in rows})
        served: defaultdict[str, list[Any]] = defaultdict(list)
        for a in await _in(
            conn,
            sa.select(
                assignments.c.caregiver_id, assignments.c.household_id, assignments.c.start_date
            ).where(assignments.c.active),
            assignments.c.caregiver_id,
            caregivers,
        ):
            served[a.caregiver_id].append(a)
        paused: defaultdict[str, list[tuple[date, date]]] = defaultdict(list)
        households = sorted({a.household_id for found in served.values() for a in found})
        for p in await _in(conn, sa.select(pauses), pauses.c.household_id, households):
            paused[p.household_id].append((p.first_day, p.last_day))
        covering: defaultdict[str, list[Any]] = defaultdict(list)
        for s in await _in(
            conn,
            sa.select(substitutions).order_by(
                substitutions.c.first_day, substitutions.c.household_id
            ),
            substitutions.c.replaces,
            caregivers,
        ):
            covering[s.replaces].append(s)
    lines = []
    for row in rows:
        mine = served[row.caregiver_id]
        lines.append(
            LeaveLine(
                leave_id=row.leave_id,
                caregiver_id=row.caregiver_id,
                station_id=stations.get(row.caregiver_id),
                first_day=row.first_day,
                last_day=row.last_day,
                reason=row.reason,
                status=LEAVE_STATUS.get(row.status, row.status),
                decided_by=row.decided_by,
                decision_reason=row.decision_reason,
                households=len(mine),
                affected_shifts=sum(
                    _visit_days(row.first_day, row.last_day, a.start_date, paused[a.household_id])
                    for a in mine
                ),
                substitutes=[
                    SubstituteLine(
                        household_id=s.household_id,
                        caregiver_id=s.caregiver_id,
                        first_day=s.first_day,
                        last_day=s.last_day,
                        preferred_caregiver_id=s.preferred_caregiver_id,
                        preference_reason=s.preference_reason,
                    )
                    for s in covering[row.caregiver_id]
                    if s.substitute_request_id
                    == substitute_request_id(row.leave_id, s.household_id)
                ],
            )
        )
    kept, truncated = _fit(lines, REPLY_BUDGET)
    return LeaveList(
        station_id=query.station_id, status=query.status, leaves=kept, truncated=truncated
    )


def _visit_days(first: date, last: date, start: date, paused: Sequence[tuple[date, date]]) -> int:
    """Days from ``first`` to ``last`` on or after ``start`` outside every pause."""
    day, count = max(first, start), 0
    while day <= last:
        if not any(p_first <= day <= p_last for p_first, p_last in paused):
            count += 1
        day += timedelta(days=1)
    return count


# -- diaries and ledgers -------------------------------------------------------------------


async def diaries_list(store: MessageStore, query: DiariesQuery) -> DiariesList:
    """Diaries (each with the warning it raises by the diary rules, from the household's
    diaries as they are now) and ledger entries of the period, with each household's cash
    held before and after them. A household's station is the one of its assignment."""

    def where(table: sa.Table, *more: Any) -> list[Any]:
        conditions = [*more]
        if query.household_id:
            conditions.append(table.c.household_id == query.household_id)
        if query.station_id:
            conditions.append(
                table.c.household_id.in_(_of_station(assignments.c.household_id, query.station_id))
            )
        return conditions

    lookback = query.date_from - timedelta(days=NO_APPETITE_DAYS - 1)
    async with store.engine.connect() as conn:
        diary_rows = (
            await conn.execute(
                sa.select(diaries)
                .where(*where(diaries, diaries.c.date.between(query.date_from, query.date_to)))
                .order_by(diaries.c.date.desc(), diaries.c.household_id)
            )
        ).all()
        earlier = (
            await conn.execute(
                sa.select(diaries.c.household_id, diaries.c.date, diaries.c.appetite).where(
                    *where(diaries, diaries.c.date >= lookback, diaries.c.date < query.date_from)
                )
            )
        ).all()
        ledger_rows = (
            await conn.execute(
                sa.select(ledger_entries)
                .where(
                    *where(
                        ledger_entries,
                        ledger_entries.c.date.between(query.date_from, query.date_to),
                    )
                )
                .order_by(ledger_entries.c.household_id, ledger_entries.c.seq)
            )
        ).all()
        households = sorted({r.household_id for r in [*diary_rows, *ledger_rows]})
        stations = await _stations(conn, assignments.c.household_id, households)
    if query.station_id:
        diary_rows = [r for r in diary_rows if stations.get(r.household_id) == query.station_id]
        ledger_rows = [r for r in ledger_rows if stations.get(r.household_id) == query.station_id]
    appetites: defaultdict[str, dict[date, str]] = defaultdict(dict)
    for r in [*earlier, *diary_rows]:
        appetites[r.household_id][r.date] = r.appetite
    tz = store.clock.tz
    diary_lines = [_diary_line(r, stations, appetites[r.household_id], tz) for r in diary_rows]
    ledger_lines = [
        LedgerLine(
            entry_id=r.entry_id,
            household_id=r.household_id,
            caregiver_id=r.caregiver_id,
            date=r.date,
            kind=r.kind,
            amount=Decimal(r.amount),
            description=r.description,
            balance=Decimal(r.balance),
        )
        for r in ledger_rows
    ]
    balances, cut_balances = _fit(_balances(ledger_lines), REPLY_BUDGET // 6)
    diary_lines, cut_diaries = _fit(diary_lines, REPLY_BUDGET // 2)
    used = sum(_size(line) for line in [*balances, *diary_lines])
    ledger_lines, cut_ledger = _fit(ledger_lines, REPLY_BUDGET - used)
    return DiariesList(
        station_id=query.station_id,
        household_id=query.household_id,
        date_from=query.date_from,
        date_to=query.date_to,
        diaries=diary_lines,
        ledger=ledger_lines,
        balances=balances,
        truncated=cut_balances or cut_diaries or cut_ledger,
    )


def _diary_line(
    row: Any, stations: dict[str, str], appetites: dict[date, str], tz: tzinfo
) -> DiaryLine:
    entry = row.entry or {}
    signs = tuple(entry.get("health_signs", ()))
    warning = diary_warning(row.date, signs, row.appetite, appetites)
    return DiaryLine(
        household_id=row.household_id,
        caregiver_id=row.caregiver_id,
        station_id=stations.get(row.household_id),
        date=row.date,
        tasks=tuple(entry.get("tasks", ())),
        appetite=row.appetite,
        mood=row.mood,
        health_signs=signs,
        notes=entry.get("notes", ""),
        recorded_at=in_zone(row.recorded_at, tz),
        warning=(
            DiaryWarning(signs=warning.signs, reason=warning.reason, reason_zh=warning.reason_zh)
            if warning
            else None
        ),
    )


def _balances(entries: Sequence[LedgerLine]) -> list[LedgerBalance]:
    """Per household (``entries`` by household, in recording order): held before the first
    and after the last entry."""
    found: dict[str, LedgerBalance] = {}
    for e in entries:
        if e.household_id not in found:
            before = e.balance - e.amount if e.kind == "received" else e.balance + e.amount
            found[e.household_id] = LedgerBalance(
                household_id=e.household_id,
                caregiver_id=e.caregiver_id,
                opening=before,
                closing=e.balance,
                entries=1,
            )
        else:
            last = found[e.household_id]
            found[e.household_id] = last.model_copy(
                update={
                    "caregiver_id": e.caregiver_id,
                    "closing": e.balance,
                    "entries": last.entries + 1,
                }
            )
    return list(found.values())


# -- appraisal -----------------------------------------------------------------------------


async def appraisals_list(store: MessageStore, query: AppraisalsQuery) -> AppraisalsList:
    """Per caregiver: the month's ratings and complaints as recorded, the visit figures and
    the score they give now (the monthly appraisal's rules), and the appraisal once made. A
    caregiver's station is the one of their assignments."""
    first = date.fromisoformat(query.month + "-01")
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    def mine(column: Any) -> list[Any]:
        if not query.station_id:
            return []
        return [column.in_(_of_station(assignments.c.caregiver_id, query.station_id))]

    tz = store.clock.tz
    async with store.engine.connect() as conn:
        ratings = (
            await conn.execute(
                sa.select(satisfaction)
                .where(satisfaction.c.month == query.month, *mine(satisfaction.c.caregiver_id))
                .order_by(satisfaction.c.caregiver_id, satisfaction.c.household_id)
            )
        ).all()
        complained = (
            await conn.execute(
                sa.select(complaints)
                .where(complaints.c.date.between(first, last), *mine(complaints.c.caregiver_id))
                .order_by(complaints.c.caregiver_id, complaints.c.date, complaints.c.complaint_id)
            )
        ).all()
        written = {
            (h, d)
            for h, d in await conn.execute(
                sa.select(diaries.c.household_id, diaries.c.date).where(
                    diaries.c.date.between(first, last)
                )
            )
        }
        visit_rows = (
            await conn.execute(
                sa.select(visits, shifts.c.visit_start)
                .join(shifts, shifts.c.shift_id == visits.c.shift_id)
                .where(visits.c.date.between(first, last), *mine(visits.c.caregiver_id))
            )
        ).all()
        made = (
            await conn.execute(
                sa.select(appraisals).where(
                    appraisals.c.month == query.month, *mine(appraisals.c.caregiver_id)
                )
            )
        ).all()
        caregivers = sorted({r.caregiver_id for r in [*ratings, *complained, *visit_rows, *made]})
        stations = await _stations(conn, assignments.c.caregiver_id, caregivers)
    facts: defaultdict[str, list[VisitFacts]] = defaultdict(list)
    for v in visit_rows:
        facts[v.caregiver_id].append(
            VisitFacts(
                household_id=v.household_id,
                date=v.date,
                window_start=v.visit_start,
                checked_in_at=in_zone(v.checked_in_at, tz),
                has_diary=(v.household_id, v.date) in written,
            )
        )
    rated: defaultdict[str, list[SatisfactionEntry]] = defaultdict(list)
    for r in ratings:
        rated[r.caregiver_id].append(
            SatisfactionEntry(household_id=r.household_id, score=r.score, recorded_by=r.recorded_by)
        )
    against: defaultdict[str, list[ComplaintEntry]] = defaultdict(list)
    for c in complained:
        against[c.caregiver_id].append(
            ComplaintEntry(
                complaint_id=c.complaint_id,
                household_id=c.household_id,
                date=c.date,
                text=c.text,
                recorded_by=c.recorded_by,
            )
        )
    appraised = {
        a.caregiver_id: AppraisalScore.model_validate({**a.details, "score": a.score}) for a in made
    }
    lines = []
    for caregiver_id in caregivers:
        if query.station_id and stations.get(caregiver_id) != query.station_id:
            continue
        now = appraise(
            facts[caregiver_id],
            [s.score for s in rated[caregiver_id]],
            len(against[caregiver_id]),
        )
        lines.append(
            AppraisalLine(
                caregiver_id=caregiver_id,
                station_id=stations.get(caregiver_id),
                satisfaction=rated[caregiver_id],
                complaints=against[caregiver_id],
                visits=now.visits,
                satisfaction_average=now.satisfaction,
                diary_completeness=now.diary_completeness,
                punctuality=now.punctuality,
                provisional_score=now.score,
                appraisal=appraised.get(caregiver_id),
            )
        )
    kept, truncated = _fit(lines, REPLY_BUDGET)
    return AppraisalsList(
        month=query.month, station_id=query.station_id, caregivers=kept, truncated=truncated
    )


# -- shared --------------------------------------------------------------------------------


def _of_station(column: Any, station_id: str) -> sa.Select[Any]:
    """Caregiver or household ids (``column`` of assignments) with an assignment there."""
    return sa.select(column).where(assignments.c.station_id == station_id)


async def _stations(conn: AsyncConnection, column: Any, ids: Iterable[str]) -> dict[str, str]:
    """The station of each caregiver or household (``column`` of assignments): that of its
    active assignment, else of the one that started last."""
    best: dict[str, tuple[bool, date, str]] = {}
    select = sa.select(
        column.label("key"),
        assignments.c.station_id,
        assignments.c.active,
        assignments.c.start_date,
    )
    for row in await _in(conn, select, column, ids):
        rank = (bool(row.active), row.start_date, row.station_id)
        if row.key not in best or rank > best[row.key]:
            best[row.key] = rank
    return {key: rank[2] for key, rank in best.items()}


async def _in(
    conn: AsyncConnection, select: sa.Select[Any], column: Any, ids: Iterable[str]
) -> list[Any]:
    """``select`` for rows whose ``column`` is one of ``ids``, a chunk of ids at a time."""
    wanted = sorted(set(ids))
    rows: list[Any] = []
    for at in range(0, len(wanted), _CHUNK):
        rows.extend((await conn.execute(select.where(column.in_(wanted[at : at + _CHUNK])))).all())
    return rows


def _size(line: BaseModel) -> int:
    return len(line.model_dump_json().encode()) + 1


def _fit(lines: list[Line], budget: int) -> tuple[list[Line], bool]:
    """The first lines whose JSON fits in ``budget`` bytes, and whether any were left off."""
    used = 0
    for count, line in enumerate(lines):
        used += _size(line)
        if used > budget:
            return lines[:count], True
    return lines, False


def _zoned(moment: datetime | None, tz: tzinfo) -> datetime | None:
    return in_zone(moment, tz) if moment is not None else None
