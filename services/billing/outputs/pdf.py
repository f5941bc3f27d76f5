"""PDF rendering with reportlab: A4, Chinese in the CID font STSong-Light.

STSong-Light is one of the Adobe Asian fonts every PDF viewer knows: the PDF names it and
carries no glyphs, and the viewer draws it with a Song (宋体) typeface of its own. Nothing has
to be installed on the machine that renders, and the files stay small.

The output is reproducible: the same data gives the same bytes (reportlab's invariant mode,
with the document's creation date set to the data's ``generated_at``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from services.billing.outputs.layout import DRAFT, Document, Item, Label, Table

FONT = "STSong-Light"
PAGE = A4
MARGIN = 15 * mm
WIDTH = PAGE[0] - 2 * MARGIN
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#444444")
SHADE = colors.HexColor("#ECECEC")
RED = colors.HexColor("#A00000")

_registered = threading.Lock()


def register_font() -> str:
    """Register the CID font once per process; returns its name."""
    with _registered:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _style(name: str, size: float, **kw: Any) -> ParagraphStyle:
    kw.setdefault("leading", size * 1.35)
    return ParagraphStyle(name, fontName=FONT, fontSize=size, wordWrap="CJK", **kw)


PROGRAMME_STYLE = _style("programme", 11, alignment=TA_CENTER)
TITLE_STYLE = _style("title", 19, alignment=TA_CENTER, leading=22, spaceBefore=1)
ADDRESSEE_STYLE = _style("addressee", 10, alignment=TA_CENTER, spaceBefore=2)
META_STYLE = _style("meta", 8.5)
META_RIGHT = _style("meta-right", 8.5, alignment=TA_RIGHT)
HEADING_STYLE = _style("heading", 11, spaceBefore=8, spaceAfter=3)
CELL = _style("cell", 9)
CELL_NUM = _style("cell-num", 9, alignment=TA_RIGHT)
HEAD = _style("head", 8.5, alignment=TA_CENTER, leading=10.5)
BOX = _style("box", 8.5, alignment=TA_CENTER, leading=10.5)
BOX_VALUE = _style("box-value", 13, alignment=TA_CENTER, leading=16)
DUE = _style("due", 11.5)
DUE_VALUE = _style("due-value", 15, alignment=TA_RIGHT, leading=18)
NOTE = _style("note", 8, leading=10.5, leftIndent=10, firstLineIndent=-10, spaceAfter=2)
DRAFT_STYLE = _style("draft", 12, alignment=TA_CENTER, textColor=RED)


def _text(value: str) -> str:
    return escape(value)


def _en_size(style: ParagraphStyle) -> float:
    return round(style.fontSize * 0.72, 1)


def _label(label: Label, style: ParagraphStyle, *, newline: bool = False) -> Paragraph:
    sep = "<br/>" if newline else " "
    en = f'<font size="{_en_size(style)}" color="#555555">{_text(label.en)}</font>'
    return Paragraph(f"{_text(label.zh)}{sep}{en}", style)


def _timestamp(moment: datetime) -> TimeStamp:
    stamp = TimeStamp(invariant=True)
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    stamp.t = moment.timestamp() if offset is not None else stamp.t
    stamp.lt = moment.timetuple()
    stamp.YMDhms = tuple(moment.timetuple())[:6]
    stamp.dhh = (abs(minutes) // 60) * (-1 if minutes < 0 else 1)
    stamp.dmm = abs(minutes) % 60
    return stamp


def _canvas_maker(generated_at: datetime) -> type[Canvas]:
    """A canvas in reportlab's invariant mode (fixed document id) whose creation date is
    ``generated_at`` rather than 2000-01-01: the same data gives the same bytes."""

    class _Canvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["invariant"] = 1
            super().__init__(*args, **kwargs)
            self._doc._timeStamp = _timestamp(generated_at)

    return _Canvas


def _header(doc: Document) -> list[Flowable]:
    out: list[Flowable] = [
        _label(doc.programme, PROGRAMME_STYLE),
        Paragraph(_text(doc.title.zh), TITLE_STYLE),
        Paragraph(_text(doc.title.en), _style("title-en", 9, alignment=TA_CENTER, textColor=GREY)),
    ]
    if doc.addressee is not None:
        out.append(_label(doc.addressee, ADDRESSEE_STYLE))
    rule = PdfTable([[""]], colWidths=[WIDTH], rowHeights=[3])
    rule.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, 0), (-1, 0), 1.2, colors.black),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
            ]
        )
    )
    out += [Spacer(1, 4), rule, Spacer(1, 3)]
    en = _en_size(META_STYLE)
    meta = PdfTable(
        [
            [
                Paragraph(
                    f'结算月份 <font size="{en}" color="#555555">Month</font> '
                    f"{_text(doc.month_label)} ({_text(doc.month)})",
                    META_STYLE,
                ),
                Paragraph(
                    f'版本 <font size="{en}" color="#555555">Revision</font> 第{doc.revision}版 '
                    f'<font size="{en}" color="#555555">rev. {doc.revision}</font>',
                    _style("meta-center", 8.5, alignment=TA_CENTER),
                ),
                Paragraph(
                    f'生成时间 <font size="{en}" color="#555555">Generated</font> '
                    f"{_text(doc.generated_at)}",
                    META_RIGHT,
                ),
            ]
        ],
        colWidths=[WIDTH * 0.36, WIDTH * 0.28, WIDTH * 0.36],
    )
    meta.setStyle(
        TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)])
    )
    out.append(meta)
    if doc.draft:
        banner = PdfTable(
            [
                [
                    Paragraph(
                        f"{DRAFT.zh} {DRAFT.en} · 本月尚未结账，数字可能变动 "
                        '<font size="8.5">the month is not closed; figures may change</font>',
                        DRAFT_STYLE,
                    )
                ]
            ],
            colWidths=[WIDTH],
        )
        banner.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, RED)]))
        out += [Spacer(1, 5), banner]
    return out


def _parties(items: tuple[Item, ...]) -> list[Flowable]:
    if not items:
        return []
    rows = [[_label(item.label, CELL), Paragraph(_text(item.value), CELL)] for item in items]
    table = PdfTable(rows, colWidths=[WIDTH * 0.26, WIDTH * 0.74])
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#BBBBBB")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return [Spacer(1, 6), table]


def _summary(items: tuple[Item, ...]) -> list[Flowable]:
    if not items:
        return []
    cells = [[_label(item.label, BOX, newline=True) for item in items]]
    cells.append([Paragraph(_text(item.value), BOX_VALUE) for item in items])
    table = PdfTable(cells, colWidths=[WIDTH / len(items)] * len(items))
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
                ("INNERGRID", (0, 0), (-1, -1), 0, colors.white),
                ("LINEAFTER", (0, 0), (-2, -1), 0.5, RULE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 6),
            ]
        )
    )
    return [Spacer(1, 8), table]


def _table(table: Table) -> list[Flowable]:
    heading = _label(table.title, HEADING_STYLE)
    if not table.rows and table.empty is not None:
        return [heading, _label(table.empty, CELL)]
    weights = [column.weight for column in table.columns]
    widths = [WIDTH * w / sum(weights) for w in weights]
    head = [_label(column.label, HEAD, newline=True) for column in table.columns]

    def row(cells: tuple[str, ...]) -> list[Paragraph]:
        return [
            Paragraph(_text(cell), CELL_NUM if column.numeric else CELL)
            for cell, column in zip(cells, table.columns, strict=True)
        ]

    data = [head] + [row(cells) for cells in table.rows]
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if table.total is not None:
        total: list[Paragraph | str] = []
        for text, span, numeric in table.total_cells():
            total.append(Paragraph(_text(text), CELL_NUM if numeric else CELL))
            total += [""] * (span - 1)
        data.append(total)
        span = table.total_cells()[0][1]
        if span > 1:
            style.append(("SPAN", (0, -1), (span - 1, -1)))
        style += [
            ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
            ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F7F7F7")),
        ]
    pdf_table = PdfTable(data, colWidths=widths, repeatRows=1)
    pdf_table.setStyle(TableStyle(style))
    if len(data) <= 12:  # a short table stays on one page with its heading
        return [KeepTogether([heading, pdf_table])]
    return [heading, pdf_table]


def _due(item: Item | None) -> list[Flowable]:
    if item is None:
        return []
    table = PdfTable(
        [[_label(item.label, DUE), Paragraph(_text(item.value), DUE_VALUE)]],
        colWidths=[WIDTH * 0.6, WIDTH * 0.4],
    )
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.4, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
            ]
        )
    )
    return [Spacer(1, 8), table]


def _notes(doc: Document) -> list[Flowable]:
    en = _en_size(NOTE)
    items: list[Flowable] = [_label(doc.notes_title, HEADING_STYLE)]
    for i, note in enumerate(doc.notes, 1):
        items.append(
            Paragraph(
                f'{i}. {_text(note.zh)}<br/><font size="{en}" color="#555555">'
                f"{_text(note.en)}</font>",
                NOTE,
            )
        )
    return [Spacer(1, 4), *items]


def _signatures(labels: tuple[Label, ...]) -> list[Flowable]:
    return [Spacer(1, 28), _SignatureRow(labels)] if labels else []


class _SignatureRow(Flowable):
    """Signature lines side by side, each with its bilingual caption under it."""

    def __init__(self, labels: tuple[Label, ...]) -> None:
        super().__init__()
        self.labels = labels
        self.gap = 8 * mm

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, 22

    def draw(self) -> None:
        canvas = self.canv
        n = len(self.labels)
        each = (self.width - self.gap * (n - 1)) / n
        for i, label in enumerate(self.labels):
            x = i * (each + self.gap)
            canvas.setLineWidth(0.8)
            canvas.line(x, 20, x + each, 20)
            canvas.setFont(FONT, 8.5)
            canvas.setFillColor(colors.black)
            canvas.drawString(x, 9, label.zh)
            canvas.setFont(FONT, 6.5)
            canvas.setFillColor(GREY)
            canvas.drawString(x, 1, label.en)


def _decorate(doc: Document) -> Callable[[Canvas, Any], None]:
    footer_left = f"{doc.programme.zh} · {doc.title.zh} · {doc.month} · 第{doc.revision}版"
    subject = doc.meta.get("subject", "")

    def on_page(canvas: Canvas, template: Any) -> None:
        canvas.saveState()
        if doc.draft:
            canvas.setFillColor(colors.Color(0.63, 0, 0, alpha=0.09))
            canvas.setFont(FONT, 96)
            canvas.translate(PAGE[0] / 2, PAGE[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, -30, f"{DRAFT.zh} {DRAFT.en}")
            canvas.rotate(-35)
            canvas.translate(-PAGE[0] / 2, -PAGE[1] / 2)
        canvas.setStrokeColor(colors.HexColor("#999999"))
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, 12 * mm, PAGE[0] - MARGIN, 12 * mm)
        canvas.setFillColor(GREY)
        canvas.setFont(FONT, 7.5)
        left = f"{footer_left} · {subject}" if subject else footer_left
        canvas.drawString(MARGIN, 8.5 * mm, f"{left} · 金额单位：元 amounts in yuan")
        page = canvas.getPageNumber()
        canvas.drawRightString(PAGE[0] - MARGIN, 8.5 * mm, f"第 {page} 页  page {page}")
        canvas.restoreState()

    return on_page


def render_pdf(doc: Document, generated_at: datetime, *, compress: bool = True) -> bytes:
    """The document as an A4 PDF. ``compress=False`` leaves the page streams readable."""
    register_font()
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=14 * mm,
        bottomMargin=18 * mm,
        title=f"{doc.title.zh} {doc.title.en} {doc.month}",
        author=f"{doc.programme.zh} {doc.programme.en}",
        subject=doc.meta.get("subject", ""),
        keywords=doc.meta.get("keywords", ""),
        creator="homecare billing outputs",
        lang="zh-CN",
        invariant=1,
        pageCompression=1 if compress else 0,
    )
    story: list[Flowable] = []
    story += _header(doc)
    story += _parties(doc.parties)
    story += _summary(doc.summary)
    for table in doc.tables:
        story += _table(table)
    story += _due(doc.due)
    story += _notes(doc)
    story += _signatures(doc.signatures)
    decorate = _decorate(doc)
    template.build(
        story,
        onFirstPage=decorate,
        onLaterPages=decorate,
        canvasmaker=_canvas_maker(generated_at),
    )
    return buffer.getvalue()
