"""The demo's summary as tables a person reads (zh-CN labels first, English beside)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(console: Console, s: dict[str, Any]) -> None:
    bill = s["billing"]
    chain = Table(title=f"{s['street']} · {s['month']} (simulated month, real NATS + services)")
    chain.add_column("stage 环节")
    chain.add_column("count 数量", justify="right")
    rows = [
        ("caregivers registered 养护员", s["caregivers"]),
        ("households registered 服务对象家庭", s["households"]),
        ("care requests 服务申请", s["care_requests"]),
        ("assignments 派遣", s["assignments"]),
        ("unmet requests 未满足", len(s["unmet"])),
        ("shifts 班次", s["shifts"]),
        ("shift messages received 班次消息", s["shift_messages_received"]),
        ("visits completed 完成上门", s["visits_completed"]),
        ("visits missed 漏访", s["visits_missed"]),
        ("visits rejected 拒收打卡", s["visits_rejected"]),
        ("households served 服务家庭", bill["households_served"]),
        ("served days 服务天数", bill["served_days"]),
        ("caregivers paid 养护员", bill["caregivers"]),
        ("dead letters 死信", len(s["dead_letters"])),
    ]
    for label, value in rows:
        chain.add_row(label, str(value))
    console.print(chain)

    cats = Table(title="served days by category 按类别服务天数")
    for col in ("A", "B", "C", "D"):
        cats.add_column(col, justify="right")
    cats.add_row(*(str(bill["served_days_by_category"].get(c, 0)) for c in "ABCD"))
    console.print(cats)

    _dispatch_stories(console, s)
    for unmet in s["unmet"]:
        console.print(f"unmet {unmet['household_id']}: {unmet['reason']}")
    for dead in s["dead_letters"]:
        console.print(
            f"dead letter #{dead['dead_letter_id']} on {dead['subject']}: {dead['reason'][:160]}"
        )
    health = ", ".join(f"{h['service']} {h['status']}" for h in s["services"])
    console.print(f"services: {health}")
    console.print(
        f"finished in {s['seconds']} s. Output: {s['output_dir']}/summary.json, "
        f"databases {s['output_dir']}/*.db, NATS data {s['output_dir']}/nats, "
        f"log {s['log_file']}"
    )


def _dispatch_stories(console: Console, s: dict[str, Any]) -> None:
    elig = s.get("eligibility") or {}
    if elig:
        console.print(
            f"eligibility 资格评估: {elig['applications']} applications assessed "
            f"{elig['assessed']}, {elig['approved']} approved by the district officer"
        )
    short = s.get("shortlist") or {}
    if short:
        table = Table(
            title=f"shortlist for {short['household_id']} 候选养护员 "
            f"(lower is better; confirmed {short['confirmed']})"
        )
        table.add_column("rank")
        table.add_column("caregiver")
        table.add_column("score", justify="right")
        table.add_column("reasons 理由")
        for c in short["candidates"]:
            reasons = "; ".join(f"{p['reason_zh']} ({p['points']:+.2f})" for p in c["components"])
            table.add_row(str(c["rank"]), c["caregiver_id"], f"{c['total']:.2f}", reasons)
        console.print(table)
        if short["blocked"]:
            console.print(f"  ruled out by hard constraints: {short['blocked']}")
    batch = s.get("batch") or {}
    if batch:
        console.print(
            f"batch assignment 批量派遣 of {batch['street']}: {batch['assigned']} "
            f"assigned, {batch['unmet']} unmet, total cost {batch['total_cost']} "
            "(optimal; A before B before C before D)"
        )
    rep = s.get("replacement") or {}
    if rep and rep.get("new"):
        console.print(
            f"replacement 更换养护员: {rep['household_id']} no longer served by "
            f"{rep['replaced']}, now by {rep['new']}"
        )
    elif rep:
        console.print(
            f"replacement 更换养护员: {rep['household_id']} asked; nobody else fits, the "
            f"caregiver stays ({rep.get('reason')})"
        )
    sub = s.get("substitute") or {}
    if sub:
        who = sub.get("caregiver_id")
        console.print(
            f"substitute 替班: {sub['household_id']} {sub.get('first_day')}.."
            f"{sub.get('last_day')}: {who or sub.get('reason')} covers for "
            f"{sub.get('replaces', '?')}"
            + (" (served this household before)" if sub.get("served_before") else "")
        )
