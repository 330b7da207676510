"""The shell of every HTML output: one self-contained file, inline CSS, nothing fetched."""

from __future__ import annotations

from html import escape

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans Bengali",
  "Noto Sans Devanagari", "Noto Sans Khmer", sans-serif; line-height: 1.5; color: #1d2430;
  max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #2f6f8f; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; color: #2f6f8f; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
h4 { font-size: 1rem; margin: 1rem 0 .3rem; color: #4a5568; }
p.note { color: #5a6472; font-size: .92rem; }
ul { padding-left: 1.3rem; }
li { margin: .25rem 0; }
table { border-collapse: collapse; margin: .8rem 0; }
th, td { border: 1px solid #d5dbe3; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #eef3f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; }
img { max-width: 100%; height: auto; }
@media print { body { margin: 0; max-width: none; } }
"""


def page(title: str, body: str, language: str) -> str:
    """A complete HTML document; `body` is already escaped HTML."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(language, quote=True)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
