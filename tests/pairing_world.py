"""A programme for pairing tests: the fixture's five participants, hosted by three organisations,
and seven colleagues there, paired weekly on Tuesdays (a working day everywhere, no holiday)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import PROGRAMME

# The rounds' first days are Tuesdays from 2027-03-02; at 04:30 UTC it is 10:30 in Dhaka, 10:15
# in Kathmandu, 11:30 in Phnom Penh: everyone's prompt time has come.
FIRST_ROUND = datetime.fromisoformat("2027-03-02T04:30:00+00:00")
ROUNDS = 6


def round_instant(number: int) -> datetime:
    return FIRST_ROUND + timedelta(weeks=number)


# Aspada hosts bishal, priya and sokha; Sahaj hosts rina; Krousar Yoeung hosts tanvir.
COLLEAGUES: list[dict[str, Any]] = [
    {"id": "nasrin", "name": "Nasrin Akhter", "organisation": "aspada", "timezone": "Asia/Dhaka",
     "slack": "U0NASRIN01", "interests": ["community-hospital-model"]},
    {"id": "karim", "name": "Karim Uddin", "organisation": "aspada", "timezone": "Asia/Dhaka",
     "slack": "U0KARIM001", "interests": ["family-practices"], "language": "bn"},
    {"id": "mitu", "name": "Mitu Das", "organisation": "aspada", "timezone": "Asia/Dhaka", "slack": "U0MITU0001"},
    {"id": "dawa", "name": "Dawa Sherpa", "organisation": "sahaj", "timezone": "Asia/Kathmandu",
     "slack": "U0DAWA0001"},
    {"id": "pema", "name": "Pema Lama", "organisation": "sahaj", "timezone": "Asia/Kathmandu"},
    {"id": "vanna", "name": "Vanna Kim", "organisation": "kry", "timezone": "Asia/Phnom_Penh",
     "teams": "4e6a8c0d-1b3f-4d5e-9a7c-2f4b6d8e0a13"},
]


def pairing_file(directory: Path, ask: str = "opt-out", **pairing: Any) -> Path:
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    data["colleagues"] = COLLEAGUES
    data["pairing"] = {
        "every": "1 week",
        "from": "2027-03-02",
        "until": "2027-05-31",
        "who": "on-exchange",
        "ask": ask,
        "check_back_after_days": 3,
        **pairing,
    }
    path = directory / "pairing.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
