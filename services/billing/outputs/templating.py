"""HTML rendering: one jinja2 template, ``templates/document.html.j2``, for every document."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from services.billing.outputs.layout import DRAFT, Document


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("services.billing.outputs", "templates"),
        autoescape=True,  # every text from the data (names, addresses) is escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(document: Document) -> str:
    """The document as a standalone, printable HTML page (UTF-8, styles inline)."""
    template = environment().get_template("document.html.j2")
    return template.render(doc=document, draft_label=DRAFT)
