"""Household statement (家庭服务结算单): what a household's month cost and who pays what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.billing.outputs.data import StatementData, month_label
from services.billing.outputs.exports import Sheets
from services.billing.outputs.layout import (
    NOTES,
    PROGRAMME,
    Column,
    Document,
    Item,
    Label,
    Table,
    category_label,
    shown_time,
)
from services.billing.outputs.money import format_count, format_days, format_money
from services.billing.outputs.names import file_name
from services.billing.outputs.pdf import render_pdf
from services.billing.outputs.templating import render_html

TITLE = Label("家庭服务结算单", "Household Service Statement")

CAREGIVER_COLUMNS = (
    Column(Label("养护员编号", "Caregiver ID"), weight=1.1),
    Column(Label("姓名", "Name"), weight=1.2),
    Column(Label("服务天数", "Days"), numeric=True, weight=0.9),
    Column(Label("政府补贴部分", "Government part"), numeric=True, weight=1.2),
    Column(Label("家庭自付部分", "Family part"), numeric=True, weight=1.2),
    Column(Label("合计", "Total"), numeric=True, weight=1.1),
)
ADJUSTMENT_COLUMNS = (
    Column(Label("说明", "Description"), weight=4.0),
    Column(Label("金额", "Amount"), numeric=True, weight=1.2),
)


def _periods(data: StatementData) -> str:
    if not data.category_periods:
        return category_label(None)
    return "；".join(
        f"{_day(start)}至{_day(end)} {category_label(category)}"
        for start, end, category in data.category_periods
    )


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _notes(data: StatementData) -> tuple[Label, ...]:
    fee_zh = fee_en = ""
    if data.monthly_fee is not None:
        figures = (
            f"{format_money(data.monthly_fee)} × {data.served_days} ÷ {data.days_in_month}"
            f" = {format_money(data.charge)}"
        )
        fee_zh = f"本户：{figures}。"
        fee_en = f" This household: {figures}."
    rates_zh = rates_en = ""
    if data.subsidy_rates:
        rates = "，".join(f"{k}类 {format_money(v)}" for k, v in sorted(data.subsidy_rates.items()))
        rates_zh = f"月补贴标准：{rates}。"
        rates_en = " Monthly subsidy by category: " + ", ".join(
            f"{k} {format_money(v)}" for k, v in sorted(data.subsidy_rates.items())
        )
        rates_en += "."
    notes = [
        Label(
            "服务天数：当月已纳入服务、且至少完成一次上门服务的天数。",
            "Served days: the days of the month on which the household was enrolled and at "
            "least one visit was completed.",
        ),
        Label(
            f"服务费 = 月服务费 × 服务天数 ÷ 当月天数（{data.days_in_month}天），四舍五入到分。"
            + fee_zh,
            f"Charge = monthly fee × served days ÷ days in the month ({data.days_in_month}), "
            "rounded half-up to the fen." + fee_en,
        ),
        Label(
            "政府补贴 = 各服务日所属补贴类别的月补贴标准之和 ÷ 当月天数，四舍五入到分，"
            "且不超过服务费。" + rates_zh,
            "Government subsidy = the sum over the served days of the monthly subsidy of the "
            "household's category on that day, ÷ days in the month, rounded to the fen, and "
            "never more than the charge." + rates_en,
        ),
        Label("家庭自付 = 服务费 − 政府补贴。", "Family share = charge − government subsidy."),
        Label(
            "每个服务日由当天完成上门服务的养护员平分（k人各得1/k天）；政府补贴和家庭自付分别按"
            "各养护员的天数比例以最大余数法分配到分。",
            "Each served day is shared equally by the caregivers who completed a visit that day "
            "(1/k day each for k caregivers); the subsidy and the family share are each divided "
            "among them in proportion to their days, in whole fen by the largest-remainder method.",
        ),
        Label(
            "调整项为以前月份结算更正的差额：正数为补缴，负数为退还，计入本月家庭应付。",
            "Adjustments are corrections of earlier months' bills: a positive amount is to be "
            "paid, a negative one is a credit; both are included in this month's amount due.",
        ),
    ]
    return tuple(notes)


def statement_document(data: StatementData) -> Document:
    """The statement laid out (shared by the HTML and the PDF)."""
    caregivers = tuple(
        (
            cid,
            name,
            format_days(days),
            format_money(gov),
            format_money(fam),
            format_money(gov + fam),
        )
        for cid, name, days, gov, fam in data.caregivers
    )
    total_days = sum((c[2] for c in data.caregivers), Decimal(0))
    tables = [
        Table(
            Label("养护员服务明细", "Caregivers"),
            CAREGIVER_COLUMNS,
            caregivers,
            total=(
                "合计 Total",
                "",
                format_days(total_days),
                format_money(data.subsidy),
                format_money(data.family_share),
                format_money(data.charge),
            ),
        )
    ]
    if data.adjustments:
        tables.append(
            Table(
                Label("调整项（以前月份更正）", "Adjustments (corrections of earlier months)"),
                ADJUSTMENT_COLUMNS,
                tuple((a[0], format_money(a[1])) for a in data.adjustments),
                total=("调整合计 Adjustments total", format_money(data.adjustments_total)),
            )
        )
    return Document(
        programme=PROGRAMME,
        title=TITLE,
        month=data.month,
        month_label=month_label(data.month),
        revision=data.revision,
        generated_at=shown_time(data.generated_at),
        parties=(
            Item(Label("户号", "Household ID"), data.household_id),
            Item(Label("服务对象家庭", "Household"), data.household_name),
            Item(Label("地址", "Address"), data.address),
            Item(Label("服务站 / 街道", "Station / street"), f"{data.station_id} · {data.street}"),
            Item(Label("补贴类别", "Eligibility category"), _periods(data)),
        ),
        summary=(
            Item(
                Label("服务天数", "Served days"),
                f"{format_count(data.served_days)} / {data.days_in_month}",
            ),
            Item(Label("服务费", "Charge"), format_money(data.charge)),
            Item(Label("政府补贴", "Government subsidy"), format_money(data.subsidy)),
            Item(Label("家庭自付", "Family share"), format_money(data.family_share)),
        ),
        tables=tuple(tables),
        due=Item(
            Label("本月家庭应付", "Amount due from the family"), format_money(data.amount_due)
        ),
        notes_title=NOTES,
        notes=_notes(data),
        signatures=(
            Label("服务站（盖章）", "Service station (seal)"),
            Label("家属签字", "Family signature"),
            Label("日期", "Date"),
        ),
        meta={
            "subject": f"{data.household_id} {data.household_name}",
            "keywords": f"statement {data.month} {data.household_id} revision {data.revision}",
        },
    )


def render_statement_html(data: StatementData) -> str:
    """家庭服务结算单 as a standalone printable HTML page."""
    return render_html(statement_document(data))


def render_statement_pdf(data: StatementData, *, compress: bool = True) -> bytes:
    """家庭服务结算单 as an A4 PDF."""
    return render_pdf(statement_document(data), data.generated_at, compress=compress)


def statement_file_name(data: StatementData, ext: str = "pdf") -> str:
    """``statement_2026-11_H0001_r1.pdf``."""
    return file_name("statement", data.month, data.household_id, data.revision, ext)


def statement_tables(data: StatementData) -> Sheets:
    """The statement's tables for :func:`write_xlsx` / :func:`write_csv` (amounts as Decimal)."""
    summary_headers = (
        "结算月份 month",
        "版本 revision",
        "户号 household_id",
        "家庭 household_name",
        "服务站 station_id",
        "街道 street",
        "服务天数 served_days",
        "当月天数 days_in_month",
        "服务费 charge",
        "政府补贴 subsidy",
        "家庭自付 family_share",
        "调整合计 adjustments",
        "本月应付 amount_due",
    )
    summary_rows = [
        (
            data.month,
            data.revision,
            data.household_id,
            data.household_name,
            data.station_id,
            data.street,
            data.served_days,
            data.days_in_month,
            data.charge,
            data.subsidy,
            data.family_share,
            data.adjustments_total,
            data.amount_due,
        )
    ]
    caregiver_headers = (
        "户号 household_id",
        "养护员编号 caregiver_id",
        "姓名 name",
        "服务天数 days",
        "政府补贴部分 government",
        "家庭自付部分 family",
        "合计 total",
    )
    caregiver_rows = [
        (data.household_id, cid, name, days, gov, fam, gov + fam)
        for cid, name, days, gov, fam in data.caregivers
    ]
    adjustment_headers = ("户号 household_id", "说明 description", "金额 amount")
    adjustment_rows = [(data.household_id, d, a) for d, a in data.adjustments]
    period_headers = ("户号 household_id", "起 from", "止 to", "类别 category")
    period_rows = [(data.household_id, s, e, c) for s, e, c in data.category_periods]
    return {
        "statement": (summary_headers, summary_rows),
        "caregivers": (caregiver_headers, caregiver_rows),
        "adjustments": (adjustment_headers, adjustment_rows),
        "categories": (period_headers, period_rows),
    }


__all__ = [
    "render_statement_html",
    "render_statement_pdf",
    "statement_document",
    "statement_file_name",
    "statement_tables",
]
