"""The demo's daily-care stories (scheduling): diaries and ledgers written on the caregivers'
phones, a caregiver's leave covered by a substitute, and the monthly appraisal.

Everything here is decided by the households, caregivers and days it is about (seeded per
item), so every run tells the same story."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from contracts import subjects
from contracts.scheduling.appraisal_v1 import RecordComplaint, RecordSatisfaction
from contracts.scheduling.diary_v1 import Appetite, HealthSign, Mood, RecordDiary, RecordLedgerEntry
from contracts.scheduling.leave_v1 import DecideLeave, RequestLeave
from services.client import BusClient, until
from services.demo.phones import Phones, chance
from services.demo.watch import BusWatcher

TASKS = ("打扫卫生", "做饭", "洗衣", "陪伴聊天", "测血压", "协助服药", "协助洗澡", "买菜")
NOTES = (
    "",
    "",
    "",
    "精神不错，聊了一会儿家常",
    "提醒按时吃药",
    "天冷了，嘱咐老人多穿衣服",
    "午饭吃了一碗面条",
    "陪老人下楼晒了太阳",
)
APPETITES: tuple[tuple[Appetite, float], ...] = (("good", 0.6), ("fair", 0.3), ("poor", 0.1))
MOODS: tuple[tuple[Mood, float], ...] = (
    ("good", 0.5),
    ("calm", 0.36),
    ("low", 0.12),
    ("agitated", 0.02),
)
RATINGS = ((5, 0.5), (4, 0.35), (3, 0.12), (2, 0.03))

# Day numbers are days from the 1st (0 = the 1st).
FALL_DAY = 7  # the 8th: an elder falls
NO_APPETITE_DAYS = (19, 20, 21)  # the 20th to the 22nd: no appetite three days running
LEAVE_FIRST_DAY, LEAVE_DAYS = 14, 3  # the 15th to the 17th; asked for on the evening before
COMPLAINT_DAYS = (10, 22)
# (day, household: 0 or 1, kind, amount, what for)
LEDGER_PLAN: tuple[tuple[int, int, str, str, str], ...] = (
    (1, 0, "received", "300.00", "家属交来买菜钱 (the family's money for groceries)"),
    (2, 0, "purchase", "46.50", "买菜、鸡蛋 (vegetables and eggs)"),
    (3, 1, "received", "200.00", "老人给的买菜钱 (grocery money from the elder)"),
    (5, 1, "purchase", "23.80", "买菜 (vegetables)"),
    (8, 0, "purchase", "32.00", "药店买降压药 (blood-pressure tablets)"),
    (9, 1, "purchase", "18.60", "买水果 (fruit)"),
    (15, 0, "purchase", "380.00", "买轮椅 (a wheelchair)"),  # more than held: refused
    (16, 0, "received", "400.00", "女儿送来买轮椅的钱 (the daughter's money for it)"),
    (17, 0, "purchase", "380.00", "买轮椅 (a wheelchair)"),
    (20, 1, "purchase", "35.20", "买米和油 (rice and cooking oil)"),
    (27, 0, "returned", "100.00", "月底退还老人 (cash returned to the elder)"),
)


@dataclass
class CareScript:
    """Who the month's care stories happen to (chosen from the street's assignments)."""

    first: date
    leave_caregiver: str | None = None
    fall: str | None = None  # household
    no_appetite: str | None = None  # household
    ledger: tuple[str, ...] = ()  # two households whose cash the caregiver holds
    careless: str | None = None  # a caregiver who skips diaries and draws complaints
    careless_households: tuple[str, ...] = ()
    station_of: dict[str, str] = field(default_factory=dict)  # household -> station

    def day(self, n: int) -> date:
        return self.first + timedelta(days=n)

    def never_miss(self, household_id: str, day: date) -> bool:
        """The story households are visited every day (a diary needs a visit)."""
        return household_id in (self.fall, self.no_appetite, *self.ledger)


def cast(
    first: date, assigned: list[dict[str, Any]], avoid_households: Iterable[str]
) -> CareScript:
    """Pick the story's people from the assignments at the start of the month: someone with
    two households takes leave; other households fall, lose appetite, keep a ledger; one more
    caregiver is careless with diaries."""
    now = {a["household_id"]: a for a in assigned}  # the latest assignment of each household
    script = CareScript(first, station_of={h: a["station_id"] for h, a in now.items()})
    avoid = set(avoid_households)
    by_carer: defaultdict[str, list[str]] = defaultdict(list)
    for h in sorted(now):
        by_carer[now[h]["caregiver_id"]].append(h)
    for carer, homes in sorted(by_carer.items()):
        if len(homes) == 2 and not avoid & set(homes):
            script.leave_caregiver = carer
            break
    if script.leave_caregiver is None and by_carer:
        script.leave_caregiver = min(by_carer)
    taken = avoid | set(by_carer.get(script.leave_caregiver or "", []))
    from_start = [
        h
        for h in sorted(now)
        if h not in taken and date.fromisoformat(now[h]["start_date"]) <= first
    ]
    if not from_start:
        return script
    pick = iter(from_start)
    script.fall = next(pick, from_start[0])
    script.no_appetite = next(pick, from_start[-1])
    script.ledger = tuple(dict.fromkeys((next(pick, from_start[0]), next(pick, from_start[-1]))))
    used = {script.fall, script.no_appetite, *script.ledger}
    used_carers = {now[h]["caregiver_id"] for h in used} | {script.leave_caregiver}
    for h in reversed(from_start):
        carer = now[h]["caregiver_id"]
        if carer not in used_carers and not set(by_carer[carer]) & (used | taken):
            script.careless = carer
            script.careless_households = tuple(by_carer[carer])
            break
    return script


def _weighted(rng: Any, choices: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def diary_for(script: CareScript, visit: dict[str, Any]) -> RecordDiary | None:
    """What the caregiver's phone records after a completed visit (``VisitCompleted``); the
    careless caregiver writes one every other day."""
    household, carer = visit["household_id"], visit["caregiver_id"]
    day = date.fromisoformat(visit["date"])
    if carer == script.careless and day.day % 2:
        return None
    rng = chance("diary", household, day)
    appetite: Appetite = _weighted(rng, APPETITES)
    mood: Mood = _weighted(rng, MOODS)
    signs: tuple[HealthSign, ...] = ("pain",) if rng.random() < 0.02 else ()
    notes = rng.choice(NOTES)
    tasks = tuple(rng.sample(TASKS, rng.randint(2, 4)))
    n = (day - script.first).days
    if household == script.fall and n == FALL_DAY:
        signs, mood = ("fall", "pain"), "low"
        notes = "老人在卫生间滑倒，右膝擦伤，已通知家属 (slipped in the bathroom, grazed knee)"
    if household == script.no_appetite and n in NO_APPETITE_DAYS:
        appetite, mood = "none", "low"
        notes = "老人不想吃饭，只喝了点水 (would not eat, only drank some water)"
    return RecordDiary(
        household_id=household,
        caregiver_id=carer,
        date=day,
        tasks=tasks,
        appetite=appetite,
        mood=mood,
        health_signs=signs,
        notes=notes,
    )


def ledger_for(
    script: CareScript, day: date, caregiver_of: Callable[[str, date], str | None]
) -> list[RecordLedgerEntry]:
    """The day's ledger entries, written by whoever visits the household that day."""
    n = (day - script.first).days
    entries = []
    for i, (when, which, kind, amount, description) in enumerate(LEDGER_PLAN):
        if when != n or which >= len(script.ledger):
            continue
        household = script.ledger[which]
        carer = caregiver_of(household, day)
        if carer is None:
            continue
        entries.append(
            RecordLedgerEntry(
                entry_id=f"L-{household}-{i + 1:02d}",
                household_id=household,
                caregiver_id=carer,
                date=day,
                kind=kind,
                amount=Decimal(amount),
                description=description,
            )
        )
    return entries


def complaints_for(script: CareScript, day: date) -> list[RecordComplaint]:
    n = (day - script.first).days
    if script.careless is None or n not in COMPLAINT_DAYS or not script.careless_households:
        return []
    i = COMPLAINT_DAYS.index(n)
    household = script.careless_households[i % len(script.careless_households)]
    text = (
        "养护员迟到一个多小时，老人等着吃药 (came over an hour late; the elder waited for "
        "the medicine)",
        "没有按要求做饭就走了 (left without cooking the meal)",
    )[i % 2]
    return [
        RecordComplaint(
            complaint_id=f"CP-{household}-{day:%m%d}",
            household_id=household,
            caregiver_id=script.careless,
            date=day,
            text=text,
            recorded_by="manager-" + script.station_of.get(household, "S1"),
        )
    ]


def ratings_for(script: CareScript, month: str, completed: list[dict[str, Any]]) -> list[Any]:
    """The station's satisfaction call at the end of the month: each household rates the
    caregiver who visited it most."""
    visits: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for v in completed:
        visits[v["household_id"]][v["caregiver_id"]] += 1
    ratings = []
    for household, carers in sorted(visits.items()):
        carer = min(carers, key=lambda c: (-carers[c], c))
        score = 2 if carer == script.careless else _weighted(chance("rating", household), RATINGS)
        ratings.append(
            RecordSatisfaction(
                household_id=household,
                caregiver_id=carer,
                month=month,
                score=score,
                recorded_by="manager-" + script.station_of.get(household, "S1"),
            )
        )
    return ratings


async def take_leave(
    client: BusClient,
    watcher: BusWatcher,
    phones: Phones,
    script: CareScript,
    names: dict[str, str],
) -> dict[str, Any]:
    """The evening before: the caregiver asks for three days off, the station approves;
    scheduling cancels their shifts and asks dispatch to cover each household."""
    carer = script.leave_caregiver
    if carer is None:
        return {}
    first, last = script.day(LEAVE_FIRST_DAY), script.day(LEAVE_FIRST_DAY + LEAVE_DAYS - 1)
    leave_id = f"LV-{carer}-{first:%Y%m%d}"
    reason = "家中老人住院，需要陪护 (a parent is in hospital)"
    await client.send(
        subjects.REQUEST_LEAVE,
        RequestLeave(
            leave_id=leave_id, caregiver_id=carer, first_day=first, last_day=last, reason=reason
        ),
    )

    def mine(kind: str) -> list[dict[str, Any]]:
        return [p for p in watcher.payloads[kind] if p.get("leave_id") == leave_id]

    await watcher.wait_until(
        lambda: bool(mine("scheduling.LeaveRequested") or mine("scheduling.LeaveRejected")),
        "the leave request",
    )
    homes = sorted(_households(watcher, carer))
    station = script.station_of.get(homes[0], "S1") if homes else "S1"
    cancelled_before = watcher.by_type["scheduling.ShiftCancelled"]
    await client.send(
        subjects.DECIDE_LEAVE,
        DecideLeave(leave_id=leave_id, approve=True, decided_by=f"manager-{station}"),
    )
    await watcher.wait_until(
        lambda: bool(mine("scheduling.LeaveDecided") or mine("scheduling.LeaveRejected")),
        "the station's decision",
    )
    if not mine("scheduling.LeaveDecided"):
        return {
            "leave_id": leave_id,
            "caregiver_id": carer,
            "rejected": mine("scheduling.LeaveRejected"),
        }
    decided = mine("scheduling.LeaveDecided")[0]

    def asked() -> list[dict[str, Any]]:
        return [
            p
            for p in watcher.payloads["dispatch.RequestSubstitute"]
            if p["caregiver_id"] == carer and p["first_day"] == first.isoformat()
        ]

    def answer(request_id: str) -> dict[str, Any] | None:
        for kind in ("dispatch.SubstituteAssigned", "dispatch.SubstituteUnavailable"):
            for p in watcher.payloads[kind]:
                if p["substitute_request_id"] == request_id:
                    return {"kind": kind, **p}
        return None

    await watcher.wait_until(
        lambda: (
            len(asked()) >= decided["substitutes_requested"]
            and all(answer(a["substitute_request_id"]) for a in asked())
        ),
        "dispatch's substitutes",
    )
    answers = [a for a in (answer(r["substitute_request_id"]) for r in asked()) if a]
    covered = [a for a in answers if a["kind"] == "dispatch.SubstituteAssigned"]
    # scheduling has given the substitutes the shifts already made, and the phones have them
    await until(
        lambda: client.caught_up(subjects.DISPATCH_STREAM, "scheduling_on_substitute_assigned"),
        "scheduling to record the substitutes",
    )
    cancelled = watcher.by_type["scheduling.ShiftCancelled"] - cancelled_before
    await watcher.wait_until(
        lambda: (
            len(phones.cancelled) >= watcher.by_type["scheduling.ShiftCancelled"]
            and all(
                any(
                    s.household_id == c["household_id"] and s.caregiver_id == c["caregiver_id"]
                    for s in phones.shifts_of(first)
                )
                for c in covered
            )
        ),
        "the phones to hear of the cancellations and the substitutes' shifts",
    )
    return {
        "leave_id": leave_id,
        "caregiver_id": carer,
        "name": names.get(carer, ""),
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "reason": reason,
        "households": mine("scheduling.LeaveRequested")[0]["households"],
        "approved": decided["approved"],
        "decided_by": decided["decided_by"],
        "cancelled_shifts": cancelled,
        "substitutes": [
            {
                "household_id": a["household_id"],
                "caregiver_id": a["caregiver_id"],
                "name": names.get(a["caregiver_id"], ""),
                "served_before": a["served_before"],
            }
            for a in covered
        ],
        "unavailable": [
            {"household_id": a["household_id"], "reason": a["reason"]}
            for a in answers
            if a["kind"] == "dispatch.SubstituteUnavailable"
        ],
    }


def leave_days(leave: dict[str, Any], phones: Phones) -> dict[str, list[list[str | None]]]:
    """Who had each household's shift from the day before the leave to the day after it:
    {household: [[date, caregiver or None: nobody], ...]} (the original caregiver is back
    on the last one)."""
    if not leave.get("first_day"):
        return {}
    first = date.fromisoformat(leave["first_day"]) - timedelta(days=1)
    last = date.fromisoformat(leave["last_day"]) + timedelta(days=1)
    homes = {s["household_id"] for s in leave["substitutes"]} | {
        u["household_id"] for u in leave["unavailable"]
    }
    days: dict[str, list[list[str | None]]] = {h: [] for h in sorted(homes)}
    day = first
    while day <= last:
        held = {s.household_id: s.caregiver_id for s in phones.shifts_of(day)}
        for household, seen in days.items():
            seen.append([day.isoformat(), held.get(household)])
        day += timedelta(days=1)
    return days


def _households(watcher: BusWatcher, carer: str) -> set[str]:
    latest = {
        a["household_id"]: a["caregiver_id"] for a in watcher.payloads["dispatch.CaregiverAssigned"]
    }
    return {h for h, c in latest.items() if c == carer}


def appraisal_summary(
    watcher: BusWatcher, month: str, names: dict[str, str], ratings: int, complaints: int
) -> dict[str, Any]:
    scores = sorted(
        (p for p in watcher.payloads["scheduling.CaregiverAppraised"] if p["month"] == month),
        key=lambda p: (-p["score"], p["caregiver_id"]),
    )
    for rank, p in enumerate(scores, 1):
        p["rank"], p["name"] = rank, names.get(p["caregiver_id"], "")
    below = [
        p for p in watcher.payloads["scheduling.AppraisalBelowThreshold"] if p["month"] == month
    ]
    return {
        "month": month,
        "appraised": len(scores),
        "ratings": ratings,
        "complaints": complaints,
        "average": round(sum(p["score"] for p in scores) / len(scores), 1) if scores else None,
        "top": scores[:3],
        "bottom": scores[-3:][::-1] if len(scores) > 3 else [],
        "below_threshold": below,
        "scores": scores,
    }
