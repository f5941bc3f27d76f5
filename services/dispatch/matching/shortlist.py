"""The ranked shortlist a station manager sees for one request (domain.md §4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.dispatch.matching.constraints import LABELS_ZH, blocking_codes, dominant_block
from services.dispatch.matching.model import CaregiverFacts, RequestFacts, Weights
from services.dispatch.matching.scoring import Score, score


@dataclass(frozen=True)
class Shortlist:
    """``ranked``: eligible caregivers, best (lowest cost) first, at most k.

    ``blocked``: constraint code → how many caregivers it blocked (see ``blocked_counts``).
    ``eligible``: how many caregivers passed every hard constraint (may exceed ``len(ranked)``).
    """

    request_id: str
    ranked: list[tuple[str, Score]]
    blocked: dict[str, int]
    eligible: int
    considered: int

    @property
    def dominant_block(self) -> str | None:
        return dominant_block(self.blocked)

    @property
    def summary(self) -> str:
        if self.ranked:
            best_id, best = self.ranked[0]
            return (
                f"{self.eligible} of {self.considered} caregivers eligible; "
                f"best {best_id} (cost {best.total:.2f})"
            )
        code = self.dominant_block
        if code is None:
            return "no caregiver to consider"
        return (
            f"no eligible caregiver among {self.considered}; "
            f"most blocked by {code} ({self.blocked[code]} caregivers)"
        )

    @property
    def summary_zh(self) -> str:
        if self.ranked:
            return f"{self.considered}名养护员中{self.eligible}名符合条件；首选{self.ranked[0][0]}"
        code = self.dominant_block
        if code is None:
            return "没有可考虑的养护员"
        return f"{self.considered}名养护员均不符合条件；主要原因：{LABELS_ZH[code]}"


def shortlist(
    req: RequestFacts,
    caregivers: Iterable[CaregiverFacts],
    weights: Weights,
    on: date,
    k: int = 5,
) -> Shortlist:
    """The k best eligible caregivers for ``req`` on ``on``: lowest ``Score.total`` first, ties
    by caregiver_id. Caregivers with any violation are left out and tallied in ``blocked``."""
    if k < 0:
        raise ValueError("k must be non-negative")
    blocked: dict[str, int] = {}
    ok: list[tuple[str, Score]] = []
    considered = 0
    for cg in caregivers:
        considered += 1
        codes = blocking_codes(req, cg, on)
        if codes:
            for code in codes:
                blocked[code] = blocked.get(code, 0) + 1
            continue
        ok.append((cg.caregiver_id, score(req, cg, weights)))
    ok.sort(key=lambda pair: (pair[1].total, pair[0]))
    return Shortlist(req.request_id, ok[:k], blocked, len(ok), considered)
