"""The learning record as a PDF. The one module that imports WeasyPrint, and only when a PDF is
made: it is heavy to import, and nothing else needs it.

WeasyPrint shapes text with Pango and HarfBuzz, so Bengali, Devanagari and Khmer come out right,
with the Noto fonts the template names (Debian's fonts-noto-core).
"""

from __future__ import annotations

import asyncio

from bot.i18n import Translator
from bot.reports.record import LearningRecord, build_record, render_record_html
from storage.db import Store


class NoPdf(Exception):
    """WeasyPrint cannot run here (its Pango library is missing); the message says what to install."""


def html_to_pdf(html: str) -> bytes:
    try:
        import weasyprint
    except OSError as exc:  # WeasyPrint loads Pango when it is imported
        raise NoPdf(
            "WeasyPrint cannot load Pango; install it (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
        ) from exc

    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def record_pdf(record: LearningRecord, translator: Translator, language: str | None = None) -> bytes:
    return html_to_pdf(render_record_html(record, translator, language))


async def record_pdf_of(store: Store, person_id: str, translator: Translator, language: str | None = None) -> bytes:
    """The person's record as it stands, printed in a thread: a page takes a moment to lay out,
    and the server's loop goes on meanwhile."""
    record = await build_record(store, person_id)
    return await asyncio.to_thread(record_pdf, record, translator, language)
