"""Billing queries for finance's console (request/reply over the bus): the runs and
revisions of the months, and one document of a revision made on demand."""

from __future__ import annotations

import base64
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from contracts.billing.queries_v1 import (
    MAX_CONTENT_BASE64,
    BillingMonthState,
    BillingRunLine,
    BillingRunsList,
    BillingRunsQuery,
    DocumentQuery,
    DocumentReply,
    RevisionLine,
    RunAmounts,
)
from services.billing.documents import (
    FORMATS,
    TABLE_NAMES,
    NoParty,
    NoRevision,
    TooLarge,
    one_document,
)
from services.billing.engine import PolicySchedule
from services.billing.store import billing_revisions, billing_runs, month_closures
from services.infra.bus.store import MessageStore
from services.infra.clock import in_zone

# The most bytes whose base64 text fits MAX_CONTENT_BASE64 (4 characters per 3 bytes).
MAX_DOCUMENT_BYTES = MAX_CONTENT_BASE64 // 4 * 3

_KIND_ZH = {"statement": "结算单", "payslip": "工资单", "claim": "补贴申领汇总表", "table": "报表"}


# -- runs -------------------------------------------------------------------------------------


async def billing_runs_list(store: MessageStore, query: BillingRunsQuery) -> BillingRunsList:
    """The latest runs (newest first), and the revisions and closing of their months."""
    select = sa.select(billing_runs)
    if query.month is not None:
        select = select.where(billing_runs.c.month == query.month)
    runs = await store.read(
        select.order_by(billing_runs.c.requested_at.desc(), billing_runs.c.run_id.desc()).limit(
            query.limit
        )
    )
    months = {r.month for r in runs} | ({query.month} if query.month else set())
    revisions: dict[str, list[Any]] = defaultdict(list)
    closures: dict[str, Any] = {}
    if months:
        for r in await store.read(
            sa.select(
                billing_revisions.c.month,
                billing_revisions.c.revision,
                billing_revisions.c.run_id,
                billing_revisions.c.requested_by,
                billing_revisions.c.fingerprint,
                billing_revisions.c.summary,
                billing_revisions.c.created_at,
            )
            .where(billing_revisions.c.month.in_(sorted(months)))
            .order_by(billing_revisions.c.month, billing_revisions.c.revision)
        ):
            revisions[r.month].append(r)
        for c in await store.read(
            sa.select(month_closures).where(month_closures.c.month.in_(sorted(months)))
        ):
            closures[c.month] = c
    made = {(r.month, r.revision): r for month in revisions.values() for r in month}
    tz = store.clock.tz

    def run_line(run: Any) -> BillingRunLine:
        revision = made.get((run.month, run.revision)) if run.status == "completed" else None
        return BillingRunLine(
            run_id=run.run_id,
            month=run.month,
            state=run.status,
            requested_by=run.requested_by,
            requested_at=in_zone(run.requested_at, tz),
            finished_at=in_zone(run.completed_at, tz) if run.completed_at else None,
            revision=revision.revision if revision else None,
            new_revision=revision.run_id == run.run_id if revision else None,
            fingerprint=revision.fingerprint if revision else None,
            totals=RunAmounts(**revision.summary["totals"]) if revision else None,
            reason=run.reason,
        )

    def month_state(month: str) -> BillingMonthState:
        closure = closures.get(month)
        lines = [
            RevisionLine(
                revision=r.revision,
                run_id=r.run_id,
                requested_by=r.requested_by,
                created_at=in_zone(r.created_at, tz),
                fingerprint=r.fingerprint,
                totals=RunAmounts(**r.summary["totals"]),
                **{
                    count: r.summary[count]
                    for count in (
                        "households",
                        "caregivers",
                        "visits",
                        "adjustments",
                        "corrections",
                        "warnings",
                    )
                },
            )
            for r in revisions.get(month, [])
        ]
        return BillingMonthState(
            month=month,
            latest_revision=lines[-1].revision if lines else None,
            closed=closure is not None,
            closed_revision=closure.revision if closure else None,
            closed_by=closure.closed_by if closure else None,
            closed_at=in_zone(closure.closed_at, tz) if closure else None,
            revisions=lines,
        )

    return BillingRunsList(
        month=query.month,
        runs=[run_line(r) for r in runs],
        months=[month_state(m) for m in sorted(months, reverse=True)],
    )


# -- one document -----------------------------------------------------------------------------


async def document(
    store: MessageStore, schedule: PolicySchedule, district: str, query: DocumentQuery
) -> DocumentReply:
    """One document of a revision as base64, or found=false and why (English and Chinese)."""

    def not_found(reason: str, reason_zh: str, **known: Any) -> DocumentReply:
        return DocumentReply(
            found=False, reason=reason, reason_zh=reason_zh, month=query.month, **known
        )

    kind, ext, party = query.kind, query.format, query.party_id
    if ext not in FORMATS[kind]:
        formats = " or ".join(FORMATS[kind])
        return not_found(
            f"a {kind} is made as {formats}, not {ext}",
            f"{_KIND_ZH[kind]}只提供 {formats.replace(' or ', ' 或 ')} 格式，不提供 {ext}",
        )
    if kind in ("statement", "payslip") and party is None:
        who, who_zh = ("household", "家庭") if kind == "statement" else ("caregiver", "养护员")
        return not_found(
            f"a {kind} is of one {who}: give its id as party_id",
            f"{_KIND_ZH[kind]}须指定{who_zh}编号 (party_id)",
        )
    if kind == "table" and (
        (party is None and ext == "csv") or (party is not None and party not in TABLE_NAMES)
    ):
        names = ", ".join(TABLE_NAMES)
        return not_found(
            f"name the table as party_id: one of {names}"
            + ("" if ext == "csv" else " (none: the workbook of all of them)"),
            f"请用 party_id 指定报表：{names}" + ("" if ext == "csv" else "（不指定则为全部报表）"),
        )
    of_month = f"revision {query.revision} of {query.month}" if query.revision else query.month
    of_month_zh = f"{query.month} 第 {query.revision} 版" if query.revision else f"{query.month}"
    try:
        made = await one_document(
            store,
            schedule,
            district,
            query.month,
            kind,
            ext,
            party_id=party if kind != "claim" else None,
            revision=query.revision,
            max_bytes=MAX_DOCUMENT_BYTES,
        )
    except NoRevision:
        return not_found(
            f"{of_month} has no billing run: run it first", f"{of_month_zh} 尚无结算，请先结算"
        )
    except NoParty:
        # a table name was checked above: the party has no line in the revision
        what, what_zh = (
            (f"household {party} has no bill", f"家庭 {party} 没有结算")
            if kind == "statement"
            else (f"caregiver {party} has no pay", f"养护员 {party} 没有工资")
        )
        return not_found(
            f"{what} in {of_month}", f"{of_month_zh} 中{what_zh}", revision=query.revision
        )
    except TooLarge as exc:
        command = f"homecare billing documents --month {query.month}" + (
            f" --revision {query.revision}" if query.revision else ""
        )
        return not_found(
            f"{exc.file_name} is {exc.size:,} bytes, too large to send over the bus (at most "
            f"{exc.limit:,}); write it with `{command}`",
            f"{exc.file_name} 共 {exc.size:,} 字节，超过总线可传送的 {exc.limit:,} 字节；"
            f"请用 `{command}` 生成",
        )
    content = base64.b64encode(made.body).decode("ascii")
    return DocumentReply(
        found=True,
        month=made.month,
        revision=made.revision,
        closed=made.closed,
        file_name=made.file_name,
        media_type=made.media_type,
        size=len(made.body),
        content_base64=content,
    )
