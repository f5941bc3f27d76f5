"""Caregiver payslip (养护员工资单): a caregiver's month by household, in two funded parts."""

from __future__ import annotations

from services.billing.outputs.data import PayslipData, month_label
from services.billing.outputs.exports import Sheets
from services.billing.outputs.layout import (
    NOTES,
    PROGRAMME,
    Column,
    Document,
    Item,
    Label,
    Table,
    shown_time,
)
from services.billing.outputs.money import format_days, format_money
from services.billing.outputs.names import file_name
from services.billing.outputs.pdf import render_pdf
from services.billing.outputs.templating import render_html

TITLE = Label("养护员工资单", "Caregiver Payslip")

HOUSEHOLD_COLUMNS = (
    Column(Label("户号", "Household ID"), weight=1.0),
    Column(Label("服务对象家庭", "Household"), weight=1.5),
    Column(Label("服务天数", "Days"), numeric=True, weight=0.9),
    Column(Label("政府补贴部分", "Government-funded"), numeric=True, weight=1.2),
    Column(Label("家庭自付部分", "Family-funded"), numeric=True, weight=1.2),
    Column(Label("小计", "Subtotal"), numeric=True, weight=1.1),
)
ADJUSTMENT_COLUMNS = (
    Column(Label("说明", "Description"), weight=4.0),
    Column(Label("金额", "Amount"), numeric=True, weight=1.2),
)

NOTES_TEXT = (
    Label(
        "每个服务日由当天完成上门服务的养护员平分（k人各得1/k天），服务天数为当月各户之和。",
        "Each served day of a household is shared equally by the caregivers who completed a "
        "visit that day (1/k day each for k caregivers); days are the month's sum over the "
        "households.",
    ),
    Label(
        "每户的政府补贴和家庭自付分别按各养护员的天数比例以最大余数法分配到分："
        "政府补贴部分由区民政局拨付，家庭自付部分来自各家庭缴费。",
        "Each household's government subsidy and family share are each divided among its "
        "caregivers in proportion to their days, in whole fen by the largest-remainder method: "
        "the government-funded part is paid from the district's subsidy, the family-funded part "
        "from the households' payments.",
    ),
    Label(
        "应发工资 = 政府补贴部分 + 家庭自付部分。", "Pay = government-funded + family-funded part."
    ),
    Label(
        "调整项为以前月份结算更正的差额：正数为补发，负数为扣回，计入本月实发。",
        "Adjustments are corrections of earlier months: a positive amount is paid in addition, "
        "a negative one is deducted; both are included in this month's net pay.",
    ),
)


def payslip_document(data: PayslipData) -> Document:
    """The payslip laid out (shared by the HTML and the PDF)."""
    rows = tuple(
        (
            hid,
            name,
            format_days(days),
            format_money(gov),
            format_money(fam),
            format_money(gov + fam),
        )
        for hid, name, days, gov, fam in data.households
    )
    tables = [
        Table(
            Label("服务家庭明细", "Households served"),
            HOUSEHOLD_COLUMNS,
            rows,
            total=(
                "合计 Total",
                "",
                format_days(data.days),
                format_money(data.government_part),
                format_money(data.family_part),
                format_money(data.pay),
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
            Item(Label("养护员编号", "Caregiver ID"), data.caregiver_id),
            Item(Label("姓名", "Name"), data.name),
            Item(Label("服务站", "Service station"), data.station_id),
            Item(Label("服务户数", "Households"), str(len(data.households))),
        ),
        summary=(
            Item(Label("服务天数", "Days"), format_days(data.days)),
            Item(Label("政府补贴部分", "Government-funded"), format_money(data.government_part)),
            Item(Label("家庭自付部分", "Family-funded"), format_money(data.family_part)),
            Item(Label("应发工资", "Pay"), format_money(data.pay)),
        ),
        tables=tuple(tables),
        due=Item(Label("本月实发合计", "Net pay this month"), format_money(data.net_pay)),
        notes_title=NOTES,
        notes=NOTES_TEXT,
        signatures=(
            Label("服务站（盖章）", "Service station (seal)"),
            Label("养护员签字", "Caregiver signature"),
            Label("日期", "Date"),
        ),
        meta={
            "subject": f"{data.caregiver_id} {data.name}",
            "keywords": f"payslip {data.month} {data.caregiver_id} revision {data.revision}",
        },
    )


def render_payslip_html(data: PayslipData) -> str:
    """养护员工资单 as a standalone printable HTML page."""
    return render_html(payslip_document(data))


def render_payslip_pdf(data: PayslipData, *, compress: bool = True) -> bytes:
    """养护员工资单 as an A4 PDF."""
    return render_pdf(payslip_document(data), data.generated_at, compress=compress)


def payslip_file_name(data: PayslipData, ext: str = "pdf") -> str:
    """``payslip_2026-11_C0001_r1.pdf``."""
    return file_name("payslip", data.month, data.caregiver_id, data.revision, ext)


def payslip_tables(data: PayslipData) -> Sheets:
    """The payslip's tables for :func:`write_xlsx` / :func:`write_csv` (amounts as Decimal)."""
    summary_headers = (
        "结算月份 month",
        "版本 revision",
        "养护员编号 caregiver_id",
        "姓名 name",
        "服务站 station_id",
        "服务天数 days",
        "政府补贴部分 government_part",
        "家庭自付部分 family_part",
        "应发工资 pay",
        "调整合计 adjustments",
        "实发合计 net_pay",
    )
    summary_rows = [
        (
            data.month,
            data.revision,
            data.caregiver_id,
            data.name,
            data.station_id,
            data.days,
            data.government_part,
            data.family_part,
            data.pay,
            data.adjustments_total,
            data.net_pay,
        )
    ]
    household_headers = (
        "养护员编号 caregiver_id",
        "户号 household_id",
        "家庭 household_name",
        "服务天数 days",
        "政府补贴部分 government",
        "家庭自付部分 family",
        "小计 total",
    )
    household_rows = [
        (data.caregiver_id, hid, name, days, gov, fam, gov + fam)
        for hid, name, days, gov, fam in data.households
    ]
    adjustment_headers = ("养护员编号 caregiver_id", "说明 description", "金额 amount")
    adjustment_rows = [(data.caregiver_id, d, a) for d, a in data.adjustments]
    return {
        "payslip": (summary_headers, summary_rows),
        "households": (household_headers, household_rows),
        "adjustments": (adjustment_headers, adjustment_rows),
    }
