"""Logging that never carries what a person wrote.

Our own modules log ids and counts. Libraries are not so careful: slack-bolt's request
verification writes a refused request's whole body, slack-sdk and msrest write request bodies at
DEBUG, SQLAlchemy puts a failed statement's parameters (a reply's text) into its exception's
message, and any traceback prints the exception's message. `PrivateRecords`, installed on the
handlers (a filter on a logger would miss records propagated from its children), rewrites each
record before it is written:

- records of libraries that may echo bodies keep their level and logger name; the database
  libraries' format strings are kept without their arguments, and the others' free text (bolt's
  and slack-sdk's f-strings) is withheld;
- exceptions are written as their types and the frames they passed through, never their
  messages (SQLAlchemy's carry the parameters, a KeyError the key, a ValueError the value);
- an exception passed as an argument of our own records becomes its type's name.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
WITHHELD = "(text withheld: it may hold what a person wrote)"

# Loggers of libraries whose records can hold request or response bodies or SQL parameters.
# "adapters.slack.bolt" is the logger our Slack adapter hands to bolt, and bolt's own middleware
# loggers ("slack_bolt.AsyncRequestVerification", ...) are named after their classes.
ECHOING = (
    "slack_bolt",
    "slack_sdk",
    "adapters.slack.bolt",
    "msrest",
    "botbuilder",
    "botframework",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "urllib3",
    "requests",
    "asyncio",  # "Task exception was never retrieved" prints the exception's repr
)
# Of these, only the database libraries' format strings are safe to keep (SQL with placeholders,
# "executing %s"); the others write free text (f-strings with bodies in them).
TEMPLATES = ("sqlalchemy", "aiosqlite", "asyncpg")


def _echoing(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in ECHOING)


def _free_text(name: str) -> bool:
    return not any(name == prefix or name.startswith(prefix + ".") for prefix in TEMPLATES)


def _types_and_frames(error: BaseException) -> str:
    """A traceback of the exception and its causes with the type names only."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    chain: list[BaseException] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for number, exc in enumerate(reversed(chain)):
        if number:
            lines.append("During handling of the above exception, another exception occurred:")
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(exc.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(f"{type(exc).__module__}.{type(exc).__qualname__} (message withheld)")
    return "\n".join(lines)


class PrivateRecords(logging.Filter):
    """Rewrites records so that no body, parameter or exception message is written (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = _types_and_frames(record.exc_info[1])
            # Formatters format exc_info again unless exc_text is set; keep only the text.
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = "(exception text withheld)"
        if _echoing(record.name):
            if _free_text(record.name) or not isinstance(record.msg, str):
                record.msg = f"{record.levelname.lower()} record {WITHHELD}"
            elif record.args:
                record.msg = f"{record.msg} {WITHHELD}"  # printed as is: args are dropped
            record.args = None
        elif record.args:
            record.args = _safe_args(record.args)
        return True


def _safe_args(args: Any) -> Any:
    if isinstance(args, tuple):
        return tuple(type(a).__name__ if isinstance(a, BaseException) else a for a in args)
    if isinstance(args, dict):
        return {k: type(v).__name__ if isinstance(v, BaseException) else v for k, v in args.items()}
    return args


def private_handler(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(PrivateRecords())
    return handler


def configure_logging(level: str, stream: TextIO) -> None:
    """The root handler, writing to `stream` at `level`, with `PrivateRecords` installed."""
    logging.basicConfig(level=level.upper(), handlers=[private_handler(stream)], force=True)
    # Library chatter (a line per migration check, two per sweep) would drown our own lines.
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
