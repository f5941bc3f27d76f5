"""Eligibility engine (domain.md §3): pure rules deciding a household's category and subsidy."""

from contracts.dispatch.application import ApplicantElder, Application
from services.dispatch.eligibility.assess_file import DocumentError, assess_document, render
from services.dispatch.eligibility.policy import (
    DEFAULT_POLICY_BOOK,
    EligibilityPolicy,
    PolicyBook,
    PolicyError,
    load_policy_book,
    policy_from_dict,
)
from services.dispatch.eligibility.rules import Assessment, assess, round_for

__all__ = [
    "DEFAULT_POLICY_BOOK",
    "ApplicantElder",
    "Application",
    "Assessment",
    "DocumentError",
    "EligibilityPolicy",
    "PolicyBook",
    "PolicyError",
    "assess",
    "assess_document",
    "load_policy_book",
    "policy_from_dict",
    "render",
    "round_for",
]
