"""A report laid out once as neutral blocks, rendered as plain text, Markdown or HTML.

Texts in blocks are final (already translated); what people wrote is escaped by each renderer,
so an answer containing `<b>` or `*` shows as written and changes no layout.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from bot.reports.html import page


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str
    # A note reads as secondary (definitions, "nothing to report").
    note: bool = False


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # Columns holding numbers are right-aligned.
    numeric: tuple[int, ...] = ()


@dataclass(frozen=True)
class Image:
    png: bytes
    alt: str
    # Where Markdown links to the PNG (it cannot embed it); HTML embeds it as a data: URI.
    path: str | None = None


Block = Heading | Paragraph | Bullets | Table | Image


def to_text(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            if out:
                out.append("")
            out.append(block.text)
            if block.level <= 2:
                out.append("=" * len(block.text) if block.level <= 1 else "-" * len(block.text))
        elif isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Bullets):
            out.extend(f"• {item}" for item in block.items)
        elif isinstance(block, Table):
            out.extend(_text_table(block))
        elif isinstance(block, Image) and block.path:
            out.append(f"[{block.alt}: {block.path}]")
    return "\n".join(out).strip() + "\n"


def _text_table(table: Table) -> list[str]:
    rows = [table.header, *table.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in table.numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    return [line(table.header), "  ".join("-" * w for w in widths), *(line(r) for r in table.rows)]


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def md_escape(text: str) -> str:
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    # A line that starts with "1." or "-" would turn into a list item.
    return re.sub(r"(?m)^(\s*)([-+]|\d+\.)(\s)", r"\1\\\2\3", escaped).replace("\n", "  \n")


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * max(1, min(block.level, 6)) + " " + md_escape(block.text), ""]
        elif isinstance(block, Paragraph):
            text = md_escape(block.text)
            out += [f"_{text}_" if block.note else text, ""]
        elif isinstance(block, Bullets):
            out += [*(f"- {md_escape(item)}" for item in block.items), ""]
        elif isinstance(block, Table):
            out.append("| " + " | ".join(md_escape(h) for h in block.header) + " |")
            out.append(
                "|"
                + "|".join("---:" if i in block.numeric else "---" for i in range(len(block.header)))
                + "|"
            )
            out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in block.rows]
            out.append("")
        elif isinstance(block, Image) and block.path:
            out += [f"![{md_escape(block.alt)}]({block.path})", ""]
    return "\n".join(out).strip() + "\n"


def _h(text: str) -> str:
    return escape(text, quote=True).replace("\n", "<br>")


def to_html(blocks: Sequence[Block], title: str, language: str) -> str:
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            level = max(1, min(block.level, 6))
            body.append(f"<h{level}>{_h(block.text)}</h{level}>")
        elif isinstance(block, Paragraph):
            body.append(f'<p class="note">{_h(block.text)}</p>' if block.note else f"<p>{_h(block.text)}</p>")
        elif isinstance(block, Bullets):
            body.append("<ul>" + "".join(f"<li>{_h(item)}</li>" for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            head = "".join(
                f'<th class="num">{_h(h)}</th>' if i in block.numeric else f"<th>{_h(h)}</th>"
                for i, h in enumerate(block.header)
            )
            rows = "".join(
                "<tr>"
                + "".join(
                    f'<td class="num">{_h(c)}</td>' if i in block.numeric else f"<td>{_h(c)}</td>"
                    for i, c in enumerate(row)
                )
                + "</tr>"
                for row in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, Image):
            data = base64.b64encode(block.png).decode("ascii")
            body.append(f'<figure><img src="data:image/png;base64,{data}" alt="{_h(block.alt)}"></figure>')
    return page(title, "\n".join(body), language)
