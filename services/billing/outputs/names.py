"""File names of the documents and exports: ``{kind}_{month}_{key}_r{revision}[_draft].{ext}``."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^\w\-]+")  # \w keeps letters of any script (a district's Chinese name)


def safe_part(text: str) -> str:
    """``text`` with anything but letters, digits, ``-`` and ``_`` replaced by ``_``."""
    return _UNSAFE.sub("_", text).strip("_") or "_"


def file_name(
    kind: str, month: str, key: str, revision: int, ext: str, *, draft: bool = False
) -> str:
    suffix = "_draft" if draft else ""
    return f"{kind}_{month}_{safe_part(key)}_r{revision}{suffix}.{ext.lstrip('.')}"
