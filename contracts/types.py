"""Field types reused across payloads."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, PlainSerializer

# Ids appear as subject tokens (homecare.carer.<id>...), so no dots, spaces or wildcards.
Id = Annotated[
    str,
    Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", examples=["C0001"]),
]
# Ids the system derives from others (AS-<request>, SH-<household>-<yyyymmdd>, V-...):
# longer than any Id they are built from.
Ref = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["SH-H0001-20261102"]),
]
Category = Literal["A", "B", "C", "D"]
Sex = Literal["F", "M"]

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def _month(value: str) -> str:
    if not _MONTH.fullmatch(value):
        raise ValueError("month must be YYYY-MM")
    return value


Month = Annotated[str, AfterValidator(_month), Field(examples=["2026-11"])]


def _window(value: tuple[time, time]) -> tuple[time, time]:
    if value[0] >= value[1]:
        raise ValueError("visit window must start before it ends")
    return value


VisitWindow = Annotated[tuple[time, time], AfterValidator(_window)]

SelfCare = Literal["independent", "needs_help", "unable"]
CertificateModule = Literal["daily_care", "common_illness", "first_aid"]
CERTIFICATE_MODULES: tuple[CertificateModule, ...] = ("daily_care", "common_illness", "first_aid")

# Skills a household needs and a caregiver has, e.g. bedridden_care, dementia_care.
Skill = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


def _sorted(values: frozenset[str]) -> list[str]:
    return sorted(values)


# A set written as a sorted list: the same set gives the same JSON in every process (Python's
# set order depends on the hash seed), so registrations compare and hash reliably.
SortedSet = PlainSerializer(_sorted, return_type=list[str])
Tags = Annotated[frozenset[str], SortedSet]
Skills = Annotated[frozenset[Skill], SortedSet]
Ids = Annotated[frozenset[Id], SortedSet]
