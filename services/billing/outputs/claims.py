"""Subsidy claim summary (补贴申领汇总表) for the district civil-affairs bureau (民政局)."""

from __future__ import annotations

from decimal import Decimal

from services.billing.outputs.data import ClaimSummaryData, month_label
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
from services.billing.outputs.money import format_count, format_money
from services.billing.outputs.names import file_name
from services.billing.outputs.pdf import render_pdf
from services.billing.outputs.templating import render_html

TITLE = Label("补贴申领汇总表", "Subsidy Claim Summary")
ADDRESSEE = Label("报送：区民政局", "To: the district civil-affairs bureau")

STATION_COLUMNS = (
    Column(Label("服务站", "Station"), weight=1.0),
    Column(Label("街道", "Street"), weight=1.7),
    Column(Label("户数", "Households"), numeric=True, weight=0.8),
    Column(Label("服务天数", "Served days"), numeric=True, weight=0.9),
    Column(Label("服务费", "Charge"), numeric=True, weight=1.25),
    Column(Label("政府补贴", "Subsidy"), numeric=True, weight=1.25),
    Column(Label("家庭自付", "Family share"), numeric=True, weight=1.25),
)
CATEGORY_COLUMNS = (
    Column(Label("补贴类别", "Category"), weight=1.6),
    Column(Label("户数", "Households"), numeric=True, weight=1.0),
    Column(Label("服务天数", "Served days"), numeric=True, weight=1.0),
    Column(Label("政府补贴", "Subsidy"), numeric=True, weight=1.3),
)


def _notes(data: ClaimSummaryData) -> tuple[Label, ...]:
    notes = [
        Label(
            "本表按服务站和街道汇总本区当月居家养老服务的服务天数、服务费、政府补贴和家庭自付，"
            "金额为各户结算之和。",
            "The table sums, by service station and street, the month's served days, charges, "
            "government subsidies and family shares of the district's households; each amount is "
            "the sum of the households' bills.",
        ),
        Label(
            "每户政府补贴 = 各服务日所属补贴类别的月补贴标准之和 ÷ 当月天数，四舍五入到分，"
            "且不超过该户服务费。",
            "A household's subsidy = the sum over its served days of the monthly subsidy of its "
            "category on that day, ÷ days in the month, rounded half-up to the fen, and never more "
            "than its charge.",
        ),
        Label(
            "按类别的户数中，月内变更类别的家庭在每个类别各计一次。",
            "In the counts by category, a household whose category changed in the month is "
            "counted once in each of its categories.",
        ),
    ]
    if data.closed:
        notes.append(
            Label(
                "本月已结账，本表不再改写；以后的更正作为调整项计入以后月份。",
                "The month is closed and this summary is final; later corrections are carried "
                "as adjustments into later months.",
            )
        )
    else:
        notes.append(
            Label(
                "草稿：本月尚未结账，数字可能变动，不作申领依据。",
                "Draft: the month is not closed, the figures may still change; not for claiming.",
            )
        )
    return tuple(notes)


def claim_document(data: ClaimSummaryData) -> Document:
    """The claim summary laid out (shared by the HTML and the PDF)."""
    totals = data.totals
    stations = Table(
        Label("按服务站和街道", "By service station and street"),
        STATION_COLUMNS,
        tuple(
            (
                row.station_id,
                row.street,
                format_count(row.households),
                format_count(row.served_days),
                format_money(row.charge),
                format_money(row.subsidy),
                format_money(row.family_share),
            )
            for row in data.rows
        ),
        total=(
            "区合计 District total",
            "",
            format_count(totals.households),
            format_count(totals.served_days),
            format_money(totals.charge),
            format_money(totals.subsidy),
            format_money(totals.family_share),
        ),
        empty=Label("本月无服务记录。", "No service this month."),
    )
    by_category = list(data.subsidy_by_category.items())
    categories = Table(
        Label("按补贴类别", "Subsidy by category"),
        CATEGORY_COLUMNS,
        tuple(
            (
                category_label(category),
                format_count(households),
                format_count(days),
                format_money(subsidy),
            )
            for category, (households, days, subsidy) in by_category
        ),
        total=(
            "合计 Total",
            format_count(sum(v[0] for _, v in by_category)),
            format_count(sum(v[1] for _, v in by_category)),
            format_money(sum((v[2] for _, v in by_category), Decimal("0.00"))),
        ),
        empty=Label("本月无补贴。", "No subsidy this month."),
    )
    return Document(
        programme=PROGRAMME,
        title=TITLE,
        addressee=ADDRESSEE,
        month=data.month,
        month_label=month_label(data.month),
        revision=data.revision,
        generated_at=shown_time(data.generated_at),
        draft=not data.closed,
        parties=(
            Item(Label("行政区", "District"), data.district),
            Item(
                Label("服务站数", "Stations"), format_count(len({r.station_id for r in data.rows}))
            ),
            Item(
                Label("状态", "Status"),
                "已结账 closed" if data.closed else "草稿（未结账） draft, month not closed",
            ),
        ),
        summary=(
            Item(Label("户数", "Households"), format_count(totals.households)),
            Item(Label("服务天数", "Served days"), format_count(totals.served_days)),
            Item(Label("服务费", "Charge"), format_money(totals.charge)),
            Item(Label("政府补贴", "Subsidy"), format_money(totals.subsidy)),
            Item(Label("家庭自付", "Family share"), format_money(totals.family_share)),
        ),
        tables=(stations, categories),
        due=Item(Label("申领补贴金额", "Subsidy claimed"), format_money(totals.subsidy)),
        notes_title=NOTES,
        notes=_notes(data),
        signatures=(
            Label("制表人", "Prepared by"),
            Label("审核人", "Checked by"),
            Label("区民政局（盖章）", "Civil-affairs bureau (seal)"),
        ),
        meta={
            "subject": data.district,
            "keywords": f"subsidy claim {data.month} revision {data.revision}"
            + ("" if data.closed else " draft"),
        },
    )


def render_claim_html(data: ClaimSummaryData) -> str:
    """补贴申领汇总表 as a standalone printable HTML page (marked 草稿 DRAFT unless closed)."""
    return render_html(claim_document(data))


def render_claim_pdf(data: ClaimSummaryData, *, compress: bool = True) -> bytes:
    """补贴申领汇总表 as an A4 PDF (a DRAFT watermark on every page unless closed)."""
    return render_pdf(claim_document(data), data.generated_at, compress=compress)


def claim_file_name(data: ClaimSummaryData, ext: str = "pdf") -> str:
    """``claim_2026-11_沙河口区_r1.pdf``, ``…_r1_draft.pdf`` for a draft."""
    return file_name("claim", data.month, data.district, data.revision, ext, draft=not data.closed)


def claim_tables(data: ClaimSummaryData) -> Sheets:
    """The summary's tables for :func:`write_xlsx` / :func:`write_csv` (amounts as Decimal)."""
    station_headers = (
        "结算月份 month",
        "服务站 station_id",
        "街道 street",
        "户数 households",
        "服务天数 served_days",
        "服务费 charge",
        "政府补贴 subsidy",
        "家庭自付 family_share",
    )
    station_rows = [
        (
            data.month,
            r.station_id,
            r.street,
            r.households,
            r.served_days,
            r.charge,
            r.subsidy,
            r.family_share,
        )
        for r in data.rows
    ]
    category_headers = (
        "结算月份 month",
        "类别 category",
        "户数 households",
        "服务天数 served_days",
        "政府补贴 subsidy",
    )
    category_rows = [
        (data.month, category, households, days, subsidy)
        for category, (households, days, subsidy) in data.subsidy_by_category.items()
    ]
    t = data.totals
    total_headers = (
        "结算月份 month",
        "版本 revision",
        "行政区 district",
        "状态 status",
        "户数 households",
        "服务天数 served_days",
        "服务费 charge",
        "政府补贴 subsidy",
        "家庭自付 family_share",
    )
    total_rows = [
        (
            data.month,
            data.revision,
            data.district,
            "closed" if data.closed else "draft",
            t.households,
            t.served_days,
            t.charge,
            t.subsidy,
            t.family_share,
        )
    ]
    return {
        "district": (total_headers, total_rows),
        "stations": (station_headers, station_rows),
        "categories": (category_headers, category_rows),
    }
