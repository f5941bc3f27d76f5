"""Billing outputs: statements, payslips, the subsidy claim summary, CSV and XLSX exports."""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from services.billing.outputs import (
    ClaimRow,
    ClaimSummaryData,
    ClaimTotals,
    PayslipData,
    StatementData,
    claim_file_name,
    claim_tables,
    format_money,
    payslip_file_name,
    payslip_tables,
    plain_money,
    render_claim_html,
    render_claim_pdf,
    render_payslip_html,
    render_payslip_pdf,
    render_statement_html,
    render_statement_pdf,
    statement_file_name,
    statement_tables,
    write_csv,
    write_xlsx,
)
from services.billing.outputs.data import CaregiverShare, CategoryPeriod

D = Decimal
CST = timezone(timedelta(hours=8))
GENERATED = datetime(2026, 12, 1, 6, 0, tzinfo=CST)


def statement() -> StatementData:
    """H0029 in November 2026: 28 served days, B then not enrolled for the last days; two
    caregivers (郑晓梅 on leave 15th-17th, 黄春燕 substituting); a correction from October."""
    return StatementData(
        month="2026-11",
        revision=2,
        household_id="H0029",
        household_name="王秀兰家",
        address="大连市沙河口区中山公园街道西山小区3号楼2单元501",
        station_id="S1",
        street="中山公园街道",
        category_periods=[
            (date(2026, 11, 1), date(2026, 11, 28), "B"),
            (date(2026, 11, 29), date(2026, 11, 30), None),
        ],
        served_days=28,
        days_in_month=30,
        charge=D("1400.00"),
        subsidy=D("186.67"),
        family_share=D("1213.33"),
        caregivers=[
            ("C0001", "郑晓梅", D("25.00"), D("166.67"), D("1083.33")),
            ("C0033", "黄春燕", D("3.00"), D("20.00"), D("130.00")),
        ],
        adjustments=[("2026年10月服务天数更正（补记1天）", D("43.33"))],
        generated_at=GENERATED,
        monthly_fee=D("1500.00"),
        subsidy_rates={"A": D("300.00"), "B": D("200.00"), "C": D("100.00"), "D": D("0.00")},
    )


def payslip() -> PayslipData:
    """C0001 with three households; a deduction carried from October."""
    return PayslipData(
        month="2026-11",
        revision=1,
        caregiver_id="C0001",
        name="郑晓梅",
        station_id="S1",
        households=[
            ("H0029", "王秀兰家", D("25.00"), D("166.67"), D("1083.33")),
            ("H0066", "李德福家", D("27.00"), D("270.00"), D("1080.00")),
            ("H0101", "赵桂芝家", D("14.50"), D("0.00"), D("725.00")),
        ],
        government_part=D("436.67"),
        family_part=D("2888.33"),
        pay=D("3325.00"),
        adjustments=[("2026年10月多计服务天数扣回", D("-50.00"))],
        generated_at=GENERATED,
    )


CLAIM_ROWS = [
    ClaimRow("S1", "中山公园街道", 30, 851, D("42550.00"), D("4400.00"), D("38150.00")),
    ClaimRow("S2", "中山公园街道", 32, 902, D("45100.00"), D("4733.33"), D("40366.67")),
    ClaimRow("S3", "黑石礁街道", 28, 801, D("40050.00"), D("4000.00"), D("36050.00")),
]


def claim(*, closed: bool) -> ClaimSummaryData:
    return ClaimSummaryData(
        month="2026-11",
        revision=1,
        district="沙河口区",
        rows=CLAIM_ROWS,
        subsidy_by_category={
            "B": (37, 1110, D("7400.00")),
            "A": (10, 300, D("3000.00")),
            "C": (30, 820, D("2733.33")),
            "D": (12, 324, D("0.00")),
        },
        totals=ClaimTotals.from_rows(CLAIM_ROWS),
        generated_at=GENERATED,
        closed=closed,
    )


# --- HTML ---------------------------------------------------------------------------------


VOID = {"meta", "br", "hr", "img", "link", "input", "col", "wbr", "source", "area", "base"}


class WellFormed(HTMLParser):
    """Every element closed, in order; collects the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> str:
    parser = WellFormed()
    parser.feed(html)
    parser.close()
    assert parser.doctype
    assert parser.errors == []
    assert parser.stack == []
    return re.sub(r"\s+", " ", "".join(parser.text))


def test_money_format() -> None:
    assert format_money(D("1500")) == "1,500.00"
    assert format_money(D("1234567.891")) == "1,234,567.89"
    assert format_money(D("0.005")) == "0.01"  # half-up
    assert format_money(D("-50")) == "-50.00"
    assert format_money(D("-0.001")) == "0.00"  # no negative zero
    assert plain_money(D("1500")) == "1500.00"
    with pytest.raises(TypeError):
        format_money(1500.0)  # type: ignore[arg-type]


def test_statement_html() -> None:
    html = render_statement_html(statement())
    text = parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in html
    for label in ("居家养老服务", "家庭服务结算单", "服务费", "政府补贴", "家庭自付", "计算说明"):
        assert label in text
    for name in ("王秀兰家", "郑晓梅", "黄春燕", "中山公园街道", "2026年11月", "第2版"):
        assert name in text
    for amount in ("1,400.00", "186.67", "1,213.33", "166.67", "1,083.33", "1,250.00"):
        assert amount in text  # the household's and each caregiver's amounts
    assert "25.00" in text and "3.00" in text and "28.00" in text  # days, and their total
    assert "2026年10月服务天数更正" in text and "43.33" in text
    assert "1,256.66" in text  # due: 1,213.33 + 43.33
    assert "1,500.00 × 28 ÷ 30 = 1,400.00" in text  # the note with this household's numbers
    assert "B类" in text and "未纳入服务" in text
    assert "草稿" not in text
    assert "2026-12-01 06:00 +08:00" in text


def test_html_escapes_the_data() -> None:
    data = statement()
    hostile = StatementData(**{**data.__dict__, "household_name": "<script>alert(1)</script>"})
    html = render_statement_html(hostile)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    parse(html)


def test_payslip_html() -> None:
    html = render_payslip_html(payslip())
    text = parse(html)
    for label in ("养护员工资单", "政府补贴部分", "家庭自付部分", "应发工资", "本月实发合计"):
        assert label in text
    for name in ("郑晓梅", "王秀兰家", "李德福家", "赵桂芝家"):
        assert name in text
    for amount in ("436.67", "2,888.33", "3,325.00", "1,350.00", "725.00", "-50.00", "3,275.00"):
        assert amount in text
    assert "66.50" in text  # 25 + 27 + 14.5 days


def test_claim_html_draft_and_closed() -> None:
    draft = parse(render_claim_html(claim(closed=False)))
    final = parse(render_claim_html(claim(closed=True)))
    for text in (draft, final):
        for label in ("补贴申领汇总表", "民政局", "沙河口区", "区合计", "按补贴类别", "黑石礁街道"):
            assert label in text
        for amount in ("127,700.00", "13,133.33", "114,566.67", "4,400.00", "7,400.00", "2,554"):
            assert amount in text
        assert text.index("A类") < text.index("B类") < text.index("C类") < text.index("D类")
    assert "草稿" in draft and "DRAFT" in draft
    assert "草稿" not in final and "DRAFT" not in final
    assert "已结账" in final


# --- PDF ----------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_statement_pdf() -> None:
    pdf = render_statement_pdf(statement())
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 3000
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    assert b"/STSong-Light" in pdf and b"/UniGB-UCS2-H" in pdf  # the CID font, not embedded
    text = pdf_text(pdf)
    for label in ("家庭服务结算单", "居家养老服务", "服务费", "政府补贴", "家庭自付", "郑晓梅"):
        assert label in text
    for amount in ("1,400.00", "186.67", "1,213.33", "1,083.33", "43.33", "1,256.66"):
        assert amount in text
    assert reader.metadata is not None
    assert reader.metadata.title is not None and "家庭服务结算单" in reader.metadata.title
    assert reader.metadata["/CreationDate"] == "D:20261201060000+08'00'"


def test_pdf_uncompressed_stream_holds_the_amounts() -> None:
    """Without pypdf: the page stream, left uncompressed, holds the amounts as UCS-2 text."""
    pdf = render_statement_pdf(statement(), compress=False)
    for amount in ("1,400.00", "1,213.33"):
        encoded = amount.encode("utf-16-be")
        escaped = "".join(f"\\{b:03o}" if b < 32 or b > 126 else chr(b) for b in encoded)
        assert escaped.encode("latin-1") in pdf
    assert len(render_statement_pdf(statement())) < len(pdf)


def test_pdf_is_reproducible() -> None:
    assert render_payslip_pdf(payslip()) == render_payslip_pdf(payslip())


def test_payslip_pdf() -> None:
    pdf = render_payslip_pdf(payslip())
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for label in ("养护员工资单", "政府补贴部分", "家庭自付部分", "郑晓梅", "李德福家", "赵桂芝家"):
        assert label in text
    for amount in ("436.67", "2,888.33", "3,325.00", "1,350.00", "-50.00", "3,275.00"):
        assert amount in text


def test_claim_pdf_draft_and_closed() -> None:
    draft = pdf_text(render_claim_pdf(claim(closed=False)))
    final = pdf_text(render_claim_pdf(claim(closed=True)))
    for text in (draft, final):
        for label in ("补贴申领汇总表", "民政局", "沙河口区", "区合计", "中山公园街道"):
            assert label in text
        for amount in ("127,700.00", "13,133.33", "114,566.67", "7,400.00"):
            assert amount in text
    assert "草稿" in draft and "DRAFT" in draft
    assert "草稿" not in final and "DRAFT" not in final


def test_long_claim_runs_over_pages() -> None:
    rows = [
        ClaimRow(f"S{i:03d}", f"第{i}街道", 10, 300, D("15000.00"), D("2000.00"), D("13000.00"))
        for i in range(120)
    ]
    data = ClaimSummaryData(
        month="2026-11",
        revision=1,
        district="沙河口区",
        rows=rows,
        subsidy_by_category={"B": (1200, 36000, D("240000.00"))},
        totals=ClaimTotals.from_rows(rows),
        generated_at=GENERATED,
        closed=False,
    )
    pdf = render_claim_pdf(data)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    assert "1,800,000.00" in pdf_text(pdf)  # the district total, on the last table page


# --- the records check themselves ---------------------------------------------------------


def test_records_refuse_amounts_that_do_not_add_up() -> None:
    fields = statement().__dict__
    with pytest.raises(ValueError, match="subsidy"):
        StatementData(**{**fields, "subsidy": D("186.68")})  # charge != subsidy + family
    with pytest.raises(ValueError, match="government"):
        StatementData(
            **{
                **fields,
                "caregivers": [("C0001", "郑晓梅", D("28.00"), D("186.66"), D("1213.34"))],
            }
        )
    with pytest.raises(TypeError, match="Decimal"):
        StatementData(**{**fields, "charge": 1400.0})  # never a float
    with pytest.raises(ValueError, match="fen"):
        StatementData(**{**fields, "monthly_fee": D("1500.001")})
    with pytest.raises(ValueError, match="within"):
        StatementData(
            **{**fields, "category_periods": [(date(2026, 11, 1), date(2026, 12, 1), "B")]}
        )
    with pytest.raises(ValueError, match="overlap"):
        StatementData(
            **{
                **fields,
                "category_periods": [
                    (date(2026, 11, 1), date(2026, 11, 15), "B"),
                    (date(2026, 11, 15), date(2026, 11, 30), None),
                ],
            }
        )
    with pytest.raises(ValueError, match="days_in_month"):
        StatementData(**{**fields, "days_in_month": 31})
    with pytest.raises(ValueError, match="pay"):
        PayslipData(**{**payslip().__dict__, "pay": D("3325.01")})
    with pytest.raises(ValueError, match="charge"):
        ClaimSummaryData(
            **{
                **claim(closed=True).__dict__,
                "totals": ClaimTotals(92, 2554, D("1"), D("1"), D("0")),
            }
        )


def test_a_month_without_service_renders() -> None:
    fields = statement().__dict__
    idle = StatementData(
        **{
            **fields,
            "served_days": 0,
            "charge": D("0.00"),
            "subsidy": D(0),
            "family_share": D("0"),
            "caregivers": [],
            "adjustments": [],
            "category_periods": [],
        }
    )
    text = parse(render_statement_html(idle))
    assert "0 / 30" in text and "未纳入服务" in text
    assert "调整合计" not in text  # no adjustments table
    assert "0.00" in pdf_text(render_statement_pdf(idle))


def test_records_accept_plain_tuples_and_store_named_ones() -> None:
    data = statement()
    assert isinstance(data.caregivers, tuple)
    first = data.caregivers[0]
    assert isinstance(first, CaregiverShare) and first.total == D("1250.00")
    assert data.category_periods[1] == CategoryPeriod(date(2026, 11, 29), date(2026, 11, 30), None)
    assert data.amount_due == D("1256.66")
    assert payslip().net_pay == D("3275.00")


def test_file_names() -> None:
    assert statement_file_name(statement()) == "statement_2026-11_H0029_r2.pdf"
    assert payslip_file_name(payslip(), "html") == "payslip_2026-11_C0001_r1.html"
    assert claim_file_name(claim(closed=False)) == "claim_2026-11_沙河口区_r1_draft.pdf"
    assert claim_file_name(claim(closed=True), "xlsx") == "claim_2026-11_沙河口区_r1.xlsx"


# --- CSV and XLSX -------------------------------------------------------------------------


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "caregivers.csv"
    headers, rows = statement_tables(statement())["caregivers"]
    assert write_csv(path, headers, rows) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    with path.open(encoding="utf-8-sig", newline="") as f:
        read = list(csv.reader(f))
    assert read[0] == list(headers)
    assert read[1] == ["H0029", "C0001", "郑晓梅", "25.00", "166.67", "1083.33", "1250.00"]
    assert read[2] == ["H0029", "C0033", "黄春燕", "3.00", "20.00", "130.00", "150.00"]
    assert b"\r\n" in raw


def test_csv_values(tmp_path: Path) -> None:
    path = tmp_path / "values.csv"
    when = datetime(2026, 12, 1, 6, 0, tzinfo=CST)
    rows = [
        ('a,b "quoted"', 3, D("1500"), date(2026, 11, 1), when, None, True),
        ("=HYPERLINK(1)", -2, D("-0.50"), date(2026, 11, 30), when, "x", False),
    ]
    write_csv(path, ["文本", "整数", "金额", "日期", "时间", "空", "是否"], rows)
    with path.open(encoding="utf-8-sig", newline="") as f:
        read = list(csv.reader(f))
    assert read[1] == ['a,b "quoted"', "3", "1500.00", "2026-11-01", when.isoformat(), "", "true"]
    assert read[2][0] == "'=HYPERLINK(1)"  # not a formula in a spreadsheet
    assert read[2][2] == "-0.50"
    with pytest.raises(TypeError, match="float"):
        write_csv(tmp_path / "f.csv", ["x"], [(1.5,)])  # type: ignore[list-item]
    assert not (tmp_path / "f.csv").exists()  # nothing half-written is left
    assert list(tmp_path.iterdir()) == [path]


def test_xlsx_cells_are_numeric(tmp_path: Path) -> None:
    path = tmp_path / "payslip.xlsx"
    counts = write_xlsx(path, payslip_tables(payslip()))
    assert counts == {"payslip": 1, "households": 3, "adjustments": 1}
    book = load_workbook(path)
    assert book.sheetnames == ["payslip", "households", "adjustments"]
    sheet = book["households"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == list(payslip_tables(payslip())["households"][0])
    assert sheet["A1"].font.bold
    row = [c for c in sheet[2]]
    assert [c.value for c in row[:3]] == ["C0001", "H0029", "王秀兰家"]
    for cell, expected in zip(row[3:], ("25.00", "166.67", "1083.33", "1250.00"), strict=True):
        assert cell.data_type == "n"
        assert isinstance(cell.value, int | float)
        assert cell.number_format == "0.00"
        assert D(str(cell.value)).quantize(D("0.01")) == D(expected)
    assert sheet.column_dimensions["C"].width >= 10  # sized to the Chinese header
    assert book["adjustments"]["C2"].value == -50
    summary = book["payslip"]
    assert summary["B2"].value == 1 and summary["B2"].data_type == "n"  # revision: an int


def test_xlsx_claim_tables_and_text_that_looks_like_a_formula(tmp_path: Path) -> None:
    path = tmp_path / claim_file_name(claim(closed=True), "xlsx")
    tables = dict(claim_tables(claim(closed=True)))
    tables["notes"] = (["说明"], [("=1+1",), (date(2026, 11, 1),)])
    write_xlsx(path, tables)
    book = load_workbook(path)
    stations = book["stations"]
    assert [c.value for c in stations[4]][:5] == ["2026-11", "S3", "黑石礁街道", 28, 801]
    assert stations["F4"].value == 40050 and stations["F4"].number_format == "0.00"
    assert book["district"]["H2"].value == pytest.approx(13133.33)
    assert book["notes"]["A2"].value == "=1+1" and book["notes"]["A2"].data_type == "s"
    assert book["notes"]["A3"].value == datetime(2026, 11, 1)
    assert book["notes"]["A3"].number_format == "yyyy-mm-dd"


def test_exports_stream_100k_rows(tmp_path: Path) -> None:
    """100,000 rows from a generator, to CSV and to XLSX, in a few seconds."""
    n = 100_000
    headers = ["户号 household_id", "家庭 household_name", "服务天数 served_days", "服务费 charge",
               "政府补贴 subsidy", "家庭自付 family_share"]  # fmt: skip

    def rows() -> Iterator[tuple[str, str, int, Decimal, Decimal, Decimal]]:
        for i in range(n):
            charge = D(1500 * (i % 31)) / 30
            charge = charge.quantize(D("0.01"))
            subsidy = min(charge, D("200.00"))
            yield (f"H{i:06d}", f"家庭{i}", i % 31, charge, subsidy, charge - subsidy)

    started = time.perf_counter()
    assert write_csv(tmp_path / "big.csv", headers, rows()) == n
    csv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    assert write_xlsx(tmp_path / "big.xlsx", {"households": (headers, rows())}) == {"households": n}
    xlsx_seconds = time.perf_counter() - started
    print(f"100k rows: csv {csv_seconds:.2f}s, xlsx {xlsx_seconds:.2f}s")
    # measured on a busy 2-core machine: CSV about 1 s, XLSX 6-9 s (openpyxl with lxml: about
    # 12 µs a cell); the bounds leave room for a loaded CI machine and catch a quadratic path
    assert csv_seconds < 15
    assert xlsx_seconds < 60
    with (tmp_path / "big.csv").open(encoding="utf-8-sig") as f:
        assert sum(1 for _ in f) == n + 1
    # the last row, read from the end of the sheet's XML (loading 100,000 rows back is slow)
    with zipfile.ZipFile(tmp_path / "big.xlsx") as book:
        name = next(n for n in book.namelist() if n.startswith("xl/worksheets/sheet"))
        with book.open(name) as sheet:
            tail = b""
            while chunk := sheet.read(1 << 16):
                tail = (tail + chunk)[-4096:]
    last = tail[tail.rindex(b'<row r="100001"') :]
    assert b"<t>H099999</t>" in last
    assert re.search(rb'<c r="D100001" s="\d+" t="n"><v>1200</v></c>', last)  # 1,200.00
