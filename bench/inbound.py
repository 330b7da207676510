"""Inbound, side by side in one run: how fast reflectbot acknowledges Slack and Teams replies
against bare apps on the same libraries that only store them, and how fast it then takes them.

Runs, in sequence and with the same load (`--events` requests, `--in-flight` at a time, from
`--people` participants; each `--rounds` times, median):

1. Slack floor: bench/slack_floor.py with --one-statement (bare slack-bolt AsyncApp storing each
   DM's text in one statement, as reflectbot keeps a reply in its inbox).
2. Slack product: bench/slack_events.py (the real server, its work loop running, so replies are
   taken and their next prompts sent to a fake Slack Web API while the load goes on).
3. Teams floor: bench/teams_floor.py (bare botbuilder CloudAdapter storing each activity's text
   in one statement; msrest's retry-code list a frozenset while it runs).
4. Teams product: bench/teams_messages.py (the real server in development mode, its work loop
   running, sending to a fake Bot Framework connector; its outbound phase runs first to create
   the conversations the replies come in).

Then prints a table: requests acknowledged per second and p50/p99 time to the HTTP response;
for the product, replies taken with their next prompt sent per second end to end (from the first
request until `load.settle` sees no reply waiting and nothing in the outbox); and the ratios
against the goals: Slack ≥ 0.8× the floor's events/s with p99 ≤ 2× the floor's, Teams ≥ 1.0× the
floor's activities/s, and on each platform an end-to-end rate ≥ 0.5× the acknowledgement rate.

    PYTHONPATH=. python bench/inbound.py --events 2000 --in-flight 50 --rounds 1
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import load  # noqa: E402
import slack_events  # noqa: E402
import slack_floor  # noqa: E402
import teams_floor  # noqa: E402
import teams_messages  # noqa: E402

Result = load.Result


def measure(title: str, run: Callable[[], Coroutine[Any, Any, Result]], times: int) -> Result:
    print(f"\n== {title} ==", flush=True)
    return load.rounds(run, times)


def table(rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; the first left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def figures(name: str, result: Result) -> list[str]:
    end_to_end = "-" if result.end_to_end is None else f"{result.end_to_end:.0f}"
    if result.unsettled:
        end_to_end += f" ({result.unsettled} left)"
    return [
        name,
        f"{result.per_second:.0f}",
        f"{result.p50:.1f}",
        f"{result.p99:.1f}",
        end_to_end,
        str(result.failures),
    ]


def goal(name: str, ratio: float, wanted: str, met: bool, detail: str) -> list[str]:
    return [name, detail, f"{ratio:.2f}×", wanted, "met" if met else "NOT MET"]


def end_to_end(platform: str, result: Result) -> list[str]:
    # Only a run whose every reply was taken (and next prompt sent) has an end-to-end rate.
    assert result.end_to_end is not None
    ratio = result.end_to_end / result.per_second
    detail = f"{result.end_to_end:.0f} vs {result.per_second:.0f} /s"
    if result.unsettled:
        detail += f", gave up with {result.unsettled} left"
    return goal(
        f"{platform} end to end vs acknowledged",
        ratio,
        "≥ 0.50×",
        ratio >= 0.5 and not result.unsettled,
        detail,
    )


def main() -> None:
    args = load.arguments(__doc__).parse_args()
    logging.basicConfig(level=logging.WARNING)
    load_ = (args.events, args.in_flight, args.people)

    slack_base = measure(
        "Slack floor: bare slack-bolt, one insert",
        lambda: slack_floor.main(*load_, one_statement=True),
        args.rounds,
    )
    slack = measure("Slack: reflectbot serve", lambda: slack_events.main(*load_, drain=True), args.rounds)
    teams_base = measure(
        "Teams floor: bare CloudAdapter, one insert, msrest list a frozenset",
        lambda: teams_floor.main(*load_, patched=True),
        args.rounds,
    )
    teams = measure(
        "Teams: reflectbot serve (development mode)", lambda: teams_messages.main(*load_), args.rounds
    )

    rounds = f"median of {args.rounds} rounds" if args.rounds > 1 else "1 round"
    print(
        f"\n== Inbound: {args.events} requests, {args.in_flight} in flight, {args.people} people, {rounds} ==\n"
    )
    print(
        table(
            [
                ["", "acknowledged /s", "p50 ms", "p99 ms", "end to end /s", "failed"],
                figures("Slack floor (slack-bolt + insert)", slack_base),
                figures("Slack reflectbot", slack),
                figures("Teams floor (CloudAdapter + insert)", teams_base),
                figures("Teams reflectbot", teams),
            ]
        )
    )
    print()
    slack_rate = slack.per_second / slack_base.per_second
    slack_p99 = slack.p99 / slack_base.p99
    teams_rate = teams.per_second / teams_base.per_second
    print(
        table(
            [
                ["goal", "measured", "ratio", "wanted", ""],
                goal(
                    "Slack events/s vs floor",
                    slack_rate,
                    "≥ 0.80×",
                    slack_rate >= 0.8,
                    f"{slack.per_second:.0f} vs {slack_base.per_second:.0f} /s",
                ),
                goal(
                    "Slack p99 vs floor",
                    slack_p99,
                    "≤ 2.00×",
                    slack_p99 <= 2.0,
                    f"{slack.p99:.1f} vs {slack_base.p99:.1f} ms",
                ),
                goal(
                    "Teams activities/s vs floor",
                    teams_rate,
                    "≥ 1.00×",
                    teams_rate >= 1.0,
                    f"{teams.per_second:.0f} vs {teams_base.per_second:.0f} /s",
                ),
                end_to_end("Slack", slack),
                end_to_end("Teams", teams),
            ]
        )
    )
    if any(r.failures for r in (slack_base, slack, teams_base, teams)):
        print("\nsome requests were not accepted (see 'failed'); the rates above count them as answered")


if __name__ == "__main__":
    main()
