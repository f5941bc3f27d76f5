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
