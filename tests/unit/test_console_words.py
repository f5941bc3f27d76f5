"""The console's words: both languages have the same keys, and every key a page or template
names exists (a missing word would show its key to the user)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.console import i18n
from services.console.i18n import AREAS, EN, ZH, lang_of, translator

CONSOLE = Path(i18n.__file__).parent
# a whole key in quotes; t("status." ~ value) builds its key and is not one
KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]*[a-z0-9_])["']\s*[,)]""")


@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.__name__.rsplit(".", 1)[-1])
def test_each_area_has_the_same_keys_in_both_languages(area: object) -> None:
    zh, en = area.ZH, area.EN  # type: ignore[attr-defined]
    assert set(zh) - set(en) == set(), "keys with no English"
    assert set(en) - set(zh) == set(), "keys with no Chinese"
    assert all(zh.values()) and all(en.values())


def test_no_key_is_defined_by_two_areas() -> None:
    seen: dict[str, str] = {}
    for area in AREAS:
        for key in area.ZH:
            assert key not in seen, f"{key} in {area.__name__} and {seen[key]}"
            seen[key] = area.__name__


def test_every_key_pages_and_templates_name_exists() -> None:
    used: set[str] = set()
    for path in [*CONSOLE.rglob("*.html"), *CONSOLE.rglob("*.py")]:
        used |= set(KEY.findall(path.read_text(encoding="utf-8")))
    assert used, "no t('...') calls found: the pattern is wrong"
    assert sorted(used - set(ZH)) == []


def test_the_translator_fills_fields_and_falls_back() -> None:
    zh, en = translator("zh"), translator("en")
    assert zh("login.title") == "登录"
    assert en("login.title") == "Sign in"
    assert en("invalid.less_than_equal", le=5) == "Must be at most 5"
    assert zh("no.such.key") == "no.such.key"
    assert en("invalid.less_than_equal", other=1) == "Must be at most {le}"
    assert lang_of("en") == "en" and lang_of("fr") == "zh" and lang_of(None) == "zh"
    assert set(EN) == set(ZH)
