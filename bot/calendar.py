"""Working days and local prompt times: each person's own time zone, their host organisation's
work week, and the host country's public holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str
    workdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    country: str | None = None
    prompt_time: time = time(10, 0)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        if WEEKDAYS[day.weekday()] not in self.workdays:
            return False
        return not (self.country and day in _holidays(self.country, day.year))

    def working_day_on_or_after(self, day: date) -> date:
        for _ in range(366):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day within a year of {day} for {self.workdays} in {self.country}")

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def prompt_at(self, day: date) -> datetime:
        """The prompt time on that local day, in UTC."""
        return datetime.combine(day, self.prompt_time, tzinfo=self.zone).astimezone(UTC)

    def next_prompt_after(self, moment: datetime) -> datetime:
        """The prompt time of the first working day after the local day of `moment`."""
        day = self.working_day_on_or_after(self.local_date(moment) + timedelta(days=1))
        return self.prompt_at(day)

    def first_prompt_on_or_after(self, day: date) -> datetime:
        return self.prompt_at(self.working_day_on_or_after(day))

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """The same local clock time, `days` working days later."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(days):
            day = self.working_day_on_or_after(day + timedelta(days=1))
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.zone).astimezone(UTC)
