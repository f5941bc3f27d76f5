"""Matching engine (domain.md §4): hard constraints, explained preference scores, the ranked
shortlist for one request and the optimal batch assignment. Pure code: no I/O."""

from services.dispatch.matching.batch import (
    BLOCKED,
    SCARCITY,
    BatchResult,
    assign_batch,
    greedy_assign,
)
from services.dispatch.matching.constraints import (
    CODES,
    LABELS_ZH,
    Violation,
    blocked_counts,
    dominant_block,
    violations,
)
from services.dispatch.matching.model import (
    CATEGORY_ORDER,
    CERTIFICATE_MODULES,
    CaregiverFacts,
    RequestFacts,
    Weights,
)
from services.dispatch.matching.scoring import COST_SCALE, Component, Score, cost, score
from services.dispatch.matching.shortlist import Shortlist, shortlist

__all__ = [
    "BLOCKED",
    "CATEGORY_ORDER",
    "CERTIFICATE_MODULES",
    "CODES",
    "COST_SCALE",
    "LABELS_ZH",
    "SCARCITY",
    "BatchResult",
    "CaregiverFacts",
    "Component",
    "RequestFacts",
    "Score",
    "Shortlist",
    "Violation",
    "Weights",
    "assign_batch",
    "blocked_counts",
    "cost",
    "dominant_block",
    "greedy_assign",
    "score",
    "shortlist",
    "violations",
]
