"""The monthly appraisal on scheduling's database (SQLite and PostgreSQL): visits, diaries,
ratings and complaints make each caregiver's score; a low one alerts the station; the last
month of a quarter brings the quarterly review."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from builders import STREET, assignment_event, one_assignment
from conftest import SHANGHAI, eventually
from scheduling_helpers import apply, emitted

from contracts import subjects
from contracts.scheduling.appraisal_v1 import AppraiseMonth, RecordComplaint, RecordSatisfaction
from contracts.scheduling.diary_v1 import RecordDiary
from contracts.scheduling.v1 import CompleteVisit, GenerateShifts
from services.client import BusClient
from services.dispatch.facts import caregiver_facts
from services.infra.clock import SimulatedClock
from services.infra.runtime import Service
from services.scheduling import appraising, diaries, handlers
from services.scheduling.store import satisfaction
from services.system import System


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
async def scheduling(scheduling_db: Service) -> Service:
    """C1 serves H1 and C2 serves H2 on Dec 1-2: C1 on time with diaries and a 5 rating,
    C2 late, no diary, a 2 rating and two complaints."""
    svc = scheduling_db
    await apply(
        svc,
        handlers.record_assignment,
        assignment_event("H1", "C1"),
        assignment_event("H2", "C2"),
    )
    days = [date(2026, 12, 1), date(2026, 12, 2)]
    await apply(svc, handlers.generate_shifts, *(GenerateShifts(date=d) for d in days))
    for d in days:
        await apply(
            svc,
            handlers.complete_visit,
            CompleteVisit(
                shift_id=f"SH-H1-{d:%Y%m%d}",
                caregiver_id="C1",
                checked_in_at=at(d, 9, 5),
                checked_out_at=at(d, 10),
            ),
            CompleteVisit(
                shift_id=f"SH-H2-{d:%Y%m%d}",
                caregiver_id="C2",
                checked_in_at=at(d, 10, 0),
                checked_out_at=at(d, 10, 50),
            ),
        )
        await apply(
            svc,
            diaries.record_diary,
            RecordDiary(household_id="H1", caregiver_id="C1", date=d, appetite="good", mood="good"),
        )
    await apply(
        svc,
        appraising.record_satisfaction,
        RecordSatisfaction(
            household_id="H1", caregiver_id="C1", month="2026-12", score=5, recorded_by="站长"
        ),
        RecordSatisfaction(
            household_id="H2", caregiver_id="C2", month="2026-12", score=2, recorded_by="站长"
        ),
    )
    await apply(
        svc,
        appraising.record_complaint,
        *(
            RecordComplaint(
                complaint_id=f"CP{n}",
                household_id="H2",
                caregiver_id="C2",
                date=date(2026, 12, 2) + timedelta(days=n),
                text="迟到",
                recorded_by="站长",
            )
            for n in range(2)
        ),
    )
    return svc


async def test_december_scores_alert_and_review_the_quarter(scheduling: Service) -> None:
    await apply(
        scheduling,
        lambda tx, cmd: appraising.appraise_month(tx, cmd, threshold=60.0),
        AppraiseMonth(month="2026-12"),
    )
    scores = await emitted(scheduling, subjects.CAREGIVER_APPRAISED)
    assert [(s["caregiver_id"], s["score"], s["visits"]) for s in scores] == [
        ("C1", 100.0, 2),  # 40 + 30 + 30
        ("C2", 0.0, 2),  # rated 2 -> 10, no diary, 60 min late, two complaints -> -10
    ]
    assert scores[1]["diary_completeness"] == 0.0 and scores[1]["punctuality"] == 0.0
    low = await emitted(scheduling, subjects.APPRAISAL_BELOW_THRESHOLD)
    assert [(a["caregiver_id"], a["threshold"]) for a in low] == [("C2", 60.0)]
    reviews = await emitted(scheduling, subjects.QUARTER_REVIEWED)  # December ends Q4
    assert [(r["caregiver_id"], r["quarter"], r["months"]) for r in reviews] == [
        ("C1", "2026-Q4", {"2026-12": 100.0}),
        ("C2", "2026-Q4", {"2026-12": 0.0}),
    ]


async def test_the_job_on_the_first_appraises_the_month_past(
    scheduling: Service, clock: SimulatedClock
) -> None:
    job = next(j for j in scheduling._scheduled if j.name == "monthly_appraisal")
    async with scheduling.store.transaction() as tx:
        await job.work(tx, at(date(2027, 1, 1), 6))
    scores = await emitted(scheduling, subjects.CAREGIVER_APPRAISED)
    assert {s["month"] for s in scores} == {"2026-12"} and len(scores) == 2


async def test_over_the_bus_dispatch_matches_with_the_new_score(
    system: System, client: BusClient
) -> None:
    """AppraiseMonth over the bus: scheduling's CaregiverAppraised reaches dispatch, whose
    matching facts then carry the score."""
    watcher = await one_assignment(client)  # H1 assigned to C1
    await client.send(
        subjects.RECORD_SATISFACTION,
        RecordSatisfaction(
            household_id="H1", caregiver_id="C1", month="2026-11", score=5, recorded_by="站长"
        ),
    )

    async def rated() -> bool:
        # the two commands travel on different consumers: appraise only once the rating is in
        rows = await system["scheduling"].store.read(sa.select(satisfaction.c.score))
        return len(rows) == 1

    await eventually(rated, "scheduling to record the rating")
    await client.send(subjects.APPRAISE_MONTH, AppraiseMonth(month="2026-11"))
    await watcher.wait_until(
        lambda: watcher.by_type["scheduling.CaregiverAppraised"] == 1, "appraisal", timeout=40
    )
    score = watcher.payloads["scheduling.CaregiverAppraised"][0]["score"]
    dispatch = system["dispatch"]

    async def dispatch_has_it() -> bool:
        async with dispatch.engine.connect() as conn:
            facts = await caregiver_facts(conn, STREET, date(2026, 12, 1), date(2026, 12, 1))
        return [c.appraisal for c in facts] == [score]

    await eventually(dispatch_has_it, "dispatch to keep C1's score")
