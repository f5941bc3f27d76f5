"""Billing's output documents, as pure rendering functions (no database, no bus).

Household statements (家庭服务结算单), caregiver payslips (养护员工资单) and the district's
subsidy claim summary (补贴申领汇总表), each as HTML and A4 PDF, and any table as CSV or XLSX.
The billing service builds the records of :mod:`.data` and calls these; see
docs/billing-outputs.md.
"""

from services.billing.outputs.claims import (
    claim_document,
    claim_file_name,
    claim_tables,
    render_claim_html,
    render_claim_pdf,
)
from services.billing.outputs.data import (
    Adjustment,
    CaregiverShare,
    CategoryPeriod,
    CategorySubsidy,
    ClaimRow,
    ClaimSummaryData,
    ClaimTotals,
    HouseholdShare,
    PayslipData,
    StatementData,
)
from services.billing.outputs.exports import Sheet, Sheets, write_csv, write_xlsx
from services.billing.outputs.money import format_money, plain_money
from services.billing.outputs.payslips import (
    payslip_document,
    payslip_file_name,
    payslip_tables,
    render_payslip_html,
    render_payslip_pdf,
)
from services.billing.outputs.statements import (
    render_statement_html,
    render_statement_pdf,
    statement_document,
    statement_file_name,
    statement_tables,
)

__all__ = [
    "Adjustment",
    "CaregiverShare",
    "CategoryPeriod",
    "CategorySubsidy",
    "ClaimRow",
    "ClaimSummaryData",
    "ClaimTotals",
    "HouseholdShare",
    "PayslipData",
    "Sheet",
    "Sheets",
    "StatementData",
    "claim_document",
    "claim_file_name",
    "claim_tables",
    "format_money",
    "payslip_document",
    "payslip_file_name",
    "payslip_tables",
    "plain_money",
    "render_claim_html",
    "render_claim_pdf",
    "render_payslip_html",
    "render_payslip_pdf",
    "render_statement_html",
    "render_statement_pdf",
    "statement_document",
    "statement_file_name",
    "statement_tables",
    "write_csv",
    "write_xlsx",
]
