"""The console's words in zh-CN (the default) and English.

Each area of pages keeps its words in ``services/console/words/<area>.py`` (ZH and EN dicts
with the same keys; a unit test checks). Templates call ``t("key")``; a key missing from a
language falls back to Chinese, then to the key itself, so a page never breaks for a missing
word.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from services.console.words import (
    carer,
    common,
    district,
    finance,
    station,
    station_review,
    supervisor,
)

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
AREAS = (common, station, station_review, carer, district, finance, supervisor)

ZH: dict[str, str] = {k: v for area in AREAS for k, v in area.ZH.items()}
EN: dict[str, str] = {k: v for area in AREAS for k, v in area.EN.items()}
CATALOGS: dict[Lang, dict[str, str]] = {"zh": ZH, "en": EN}


def translator(lang: Lang) -> Callable[..., str]:
    """``t(key, **values)``: the word in ``lang``, with ``{name}`` fields filled in."""
    words = CATALOGS.get(lang, ZH)

    def t(key: str, **values: object) -> str:
        text = words.get(key) or ZH.get(key) or key
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):  # a translation naming another field
            return text

    return t


def lang_of(value: str | None) -> Lang:
    return "en" if value == "en" else "zh"
