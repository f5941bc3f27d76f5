"""The demo's summary as tables a person reads (zh-CN labels first, English beside)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from services.demo.console_users import DEMO_PASSWORD


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
        ("missed-visit alerts 漏访警报", len(s["missed_alerts"])),
        ("visits rejected 拒收打卡", s["visits_rejected"]),
        ("shifts cancelled (leave) 取消班次", s["shifts_cancelled"]),
        ("diaries recorded 服务日志", s["diaries_recorded"]),
        ("health warnings 健康预警", len(s["health_warnings"])),
        ("ledger entries 账目", s["ledger"].get("recorded", 0)),
        ("ledger entries refused 账目被拒", len(s["ledger"].get("rejected", []))),
        ("caregivers appraised 月度考核", s["appraisal"].get("appraised", 0)),
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
    _care_stories(console, s)
    for unmet in s["unmet"]:
        console.print(f"unmet {unmet['household_id']}: {unmet['reason']}")
    for dead in s["dead_letters"]:
        console.print(
            f"dead letter #{dead['dead_letter_id']} on {dead['subject']}: {dead['reason'][:160]}"
        )
    _billing_run(console, s.get("billing_run") or {})
    health = ", ".join(f"{h['service']} {h['status']}" for h in s["services"])
    console.print(f"services: {health}")
    _console_users(console, s)
    console.print(
        f"finished in {s['seconds']} s. Output: {s['output_dir']}/summary.json, "
        f"databases {s['output_dir']}/*.db, NATS data {s['output_dir']}/nats, "
        f"log {s['log_file']}"
    )


def _console_users(console: Console, s: dict[str, Any]) -> None:
    users = s.get("console_users") or []
    if not users:
        return
    table = Table(title="web console 网页控制台: `make console`, then open http://127.0.0.1:8080")
    for col in ("user 用户名", "role 角色", "station / caregiver"):
        table.add_column(col)
    for user in users:
        table.add_row(
            user["user_id"], user["role"], user.get("station_id") or user.get("caregiver_id") or ""
        )
    console.print(table)
    month = s["month"]
    console.print(
        f"password 密码 for every demo user: {DEMO_PASSWORD} · the demo month is {month}: "
        f"pick one of its days on the board (e.g. /station?date={month}-15)"
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


def _care_stories(console: Console, s: dict[str, Any]) -> None:
    _diaries(console, s)
    _missed(console, s)
    _leave(console, s.get("leave") or {})
    for c in s.get("complaints", []):
        console.print(
            f"complaint 投诉 {c['date']} {c['household_id']} about {c['caregiver_id']}: {c['text']}"
        )
    _appraisal(console, s.get("appraisal") or {})


def _diaries(console: Console, s: dict[str, Any]) -> None:
    skipped = f", all {s['diaries_skipped_by']}'s" if s.get("diaries_skipped_by") else ""
    console.print(
        f"diaries 服务日志: {s['diaries_recorded']} recorded after {s['visits_completed']} "
        f"visits ({s['visits_without_diary']} visits without a diary 未写日志{skipped})"
    )
    for w in s["health_warnings"]:
        console.print(
            f"  health warning 健康预警 {w['date']} {w['household_id']} by {w['caregiver_id']}: "
            f"{w['reason_zh']} ({w['reason']}), to the family doctor 家庭医生"
        )
    ledger = s.get("ledger") or {}
    if ledger:
        held = ", ".join(f"{h} {b}" for h, b in ledger["balances"].items())
        console.print(
            f"ledger 账目: {ledger['recorded']} entries recorded, "
            f"{len(ledger['rejected'])} refused; cash held 代管现金 {held} yuan"
        )
        for r in ledger["rejected"]:
            console.print(
                f"  refused 拒绝 {r.get('date', '')} {r['household_id']} "
                f"{r.get('description', r['entry_id'])} {r.get('amount', '')}: {r['reason']}"
            )


def _missed(console: Console, s: dict[str, Any]) -> None:
    alerts = s["missed_alerts"]
    if not alerts:
        return
    first = alerts[0]
    window = "-".join(t[:5] for t in first["visit_window"])
    console.print(
        f"missed visits 漏访: {s['visits_missed']} shifts nobody checked in to, "
        f"{len(alerts)} VisitMissed alerts 漏访警报 to the stations (window end + "
        f"{first['grace_minutes']} min); first: {first['date']} {first['household_id']} "
        f"{window} {first['caregiver_id']} station {first['station_id']}"
    )


def _leave(console: Console, leave: dict[str, Any]) -> None:
    if not leave:
        return
    if leave.get("rejected"):
        console.print(f"leave 请假: {leave['caregiver_id']} refused: {leave['rejected']}")
        return
    console.print(
        f"leave 请假: {leave['caregiver_id']} {leave['name']} {leave['first_day']}.."
        f"{leave['last_day']} ({leave['reason']}), "
        f"{'approved 批准' if leave['approved'] else 'refused 驳回'} by {leave['decided_by']}; "
        f"{leave['cancelled_shifts']} shifts cancelled 取消班次, "
        f"{len(leave['substitutes'])} of {leave['households']} households covered 替班"
    )
    substitutes = {x["household_id"]: x for x in leave["substitutes"]}
    for household, days in leave.get("days", {}).items():
        parts = []
        for first, last, carer in _runs(days):
            span = first[5:] if first == last else f"{first[5:]}..{last[5:]}"
            sub = substitutes.get(household)
            if carer is None:
                parts.append(f"{span} nobody 无人上门")
            elif sub and carer == sub["caregiver_id"]:
                before = ", served before 曾服务过" if sub["served_before"] else ""
                parts.append(f"{span} {carer} {sub['name']} substitute 替班{before}")
            else:
                parts.append(f"{span} {carer}")
        back = days and days[-1][1] == leave["caregiver_id"]
        console.print(
            f"  {household}: "
            + " → ".join(parts)
            + (" (back after the leave 假后恢复)" if back else "")
        )
    for u in leave["unavailable"]:
        console.print(f"  {u['household_id']}: no substitute 无人替班 ({u['reason']})")


def _runs(days: list[list[Any]]) -> list[tuple[str, str, str | None]]:
    """[[date, caregiver], ...] as (first, last, caregiver) runs of the same caregiver."""
    runs: list[tuple[str, str, str | None]] = []
    for day, carer in days:
        if runs and runs[-1][2] == carer:
            runs[-1] = (runs[-1][0], day, carer)
        else:
            runs.append((day, day, carer))
    return runs


def _appraisal(console: Console, a: dict[str, Any]) -> None:
    if not a.get("appraised"):
        return
    table = Table(
        title=f"monthly appraisal 月度考核 {a['month']}: {a['appraised']} caregivers, "
        f"average {a['average']} ({a['ratings']} satisfaction ratings 满意度, "
        f"{a['complaints']} complaints 投诉)"
    )
    table.add_column("#\n名次", justify="right")
    table.add_column("caregiver\n养护员", no_wrap=True)
    for header in ("score\n得分", "rating\n满意度", "diary\n日志", "on time\n准时"):
        table.add_column(header, justify="right")
    table.add_column("complaints\n投诉", justify="right")
    table.add_column("visits\n上门", justify="right")
    for p in a["top"] + a["bottom"]:
        rating = p["satisfaction"]
        table.add_row(
            str(p["rank"]),
            f"{p['caregiver_id']} {p['name']}",
            f"{p['score']:.1f}",
            "-" if rating is None else f"{rating:.1f}",
            f"{p['diary_completeness']:.0%}",
            f"{p['punctuality']:.0%}",
            str(p["complaints"]),
            str(p["visits"]),
        )
    console.print(table)
    below = ", ".join(f"{b['caregiver_id']} {b['score']:.1f}" for b in a["below_threshold"])
    console.print(
        f"  below {a.get('threshold', 60):g} 低于考核线 (AppraisalBelowThreshold → station): "
        + (below or "nobody 无")
    )


def _billing_run(console: Console, run: dict[str, Any]) -> None:
    """The month's billing run and where its documents are."""
    if not run:
        return
    t = run["totals"]
    table = Table(title=f"billing 结算 {run['month']} · revision 第 {run['revision']} 版")
    table.add_column("")
    table.add_column("yuan 元", justify="right")
    for label, key in (
        ("charge 服务费", "charge"),
        ("subsidy 政府补贴", "subsidy"),
        ("family share 家庭自付", "family_share"),
        ("caregivers' pay 养护员报酬", "pay"),
    ):
        table.add_row(label, t[key])
    console.print(table)
    console.print(
        f"documents 文件: {run['statements']} statements 结算单, {run['payslips']} payslips "
        f"工资单, the claim summary 补贴申领汇总表 and the tables (CSV, XLSX) in {run['folder']}"
    )
    console.print(f"  open 打开: {run['example_statement']}")
    console.print(f"  open 打开: {run['claim_summary']}")
