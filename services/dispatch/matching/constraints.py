"""Hard constraints of domain.md §4: which caregivers may NOT serve a request, and why.

``violations`` returns every constraint that blocks a pair, each as ``(code, text)``; the codes
are stable (the UI, the audit log and the batch result use them); the texts are English, with
a zh-CN label per code in ``LABELS_ZH``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import NamedTuple

from services.dispatch.matching.model import CERTIFICATE_MODULES, CaregiverFacts, RequestFacts

#: Every code, in the order used to break ties between equally frequent blocks.
CODES: tuple[str, ...] = (
    "other_street",
    "inactive",
    "on_leave",
    "certificate",
    "at_capacity",
    "missing_skill",
    "replaced",
    "gender",
    "own_child",
)
LABELS_ZH: Mapping[str, str] = {
    "other_street": "不属同一街道",
    "inactive": "未在岗",
    "on_leave": "请假中",
    "certificate": "培训证书缺失或过期",
    "at_capacity": "已满额",
    "missing_skill": "缺少所需护理技能",
    "replaced": "该户已要求更换此养护员",
    "gender": "不符合性别要求",
    "own_child": "系老人子女（仅B2公示通过可用）",
}
_SEX = {"F": "female", "M": "male"}


class Violation(NamedTuple):
    code: str
    text: str


def violations(req: RequestFacts, cg: CaregiverFacts, on: date) -> list[Violation]:
    """All hard constraints that stop ``cg`` serving ``req`` on day ``on`` (empty: allowed)."""
    found: list[Violation] = []
    if cg.street != req.street:
        found.append(Violation("other_street", f"belongs to street {cg.street}, not {req.street}"))
    if not cg.active:
        found.append(Violation("inactive", "caregiver is not active"))
    if on in cg.on_leave_dates:
        found.append(Violation("on_leave", f"on leave on {on.isoformat()}"))
    for module in CERTIFICATE_MODULES:
        expiry = cg.certificates.get(module)
        if expiry is None:
            found.append(Violation("certificate", f"no {module} certificate"))
        elif expiry < on:
            found.append(Violation("certificate", f"{module} certificate expired on {expiry}"))
    if cg.load >= cg.capacity:
        text = f"at capacity: serves {cg.load} of {cg.capacity} households"
        found.append(Violation("at_capacity", text))
    missing = sorted(req.needed_skills - cg.skills)
    if missing:
        found.append(Violation("missing_skill", "lacks " + ", ".join(missing)))
    if cg.caregiver_id in req.replaced_caregivers:
        found.append(Violation("replaced", "the household asked to replace this caregiver"))
    pref = req.gender_preference
    if req.gender_strict and pref is not None and cg.sex != pref:
        found.append(Violation("gender", f"the household requires a {_SEX[pref]} caregiver"))
    if req.household_id in cg.child_of and not req.b2_child_allowed:
        text = "is an elder's own child; allowed only in the approved B2 case"
        found.append(Violation("own_child", text))
    return found


def blocking_codes(req: RequestFacts, cg: CaregiverFacts, on: date) -> frozenset[str]:
    """The distinct codes blocking the pair; a caregiver of another street gets only
    ``other_street`` (its other defects do not matter to this household)."""
    if cg.street != req.street:
        return frozenset({"other_street"})
    return frozenset(v.code for v in violations(req, cg, on))


def blocked_counts(
    req: RequestFacts, caregivers: Iterable[CaregiverFacts], on: date
) -> dict[str, int]:
    """How many caregivers each constraint blocks (a caregiver counts once per code; see
    ``blocking_codes``)."""
    counts: dict[str, int] = {}
    for cg in caregivers:
        for code in blocking_codes(req, cg, on):
            counts[code] = counts.get(code, 0) + 1
    return counts


def dominant_block(blocked: Mapping[str, int]) -> str | None:
    """The constraint that blocked most caregivers of the request's own street.

    ``other_street`` is reported only when nothing else blocked (no caregiver in the street);
    ties go to the earlier code in ``CODES``. None when nothing was blocked.
    """
    local = {c: n for c, n in blocked.items() if c != "other_street" and n > 0}
    pool = local or {c: n for c, n in blocked.items() if n > 0}
    if not pool:
        return None
    return min(pool, key=lambda c: (-pool[c], CODES.index(c)))
