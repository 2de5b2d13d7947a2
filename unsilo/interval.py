"""A data interval ``[start, end)`` of calendar days in the city's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    start: dt.date
    end: dt.date

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError(f"interval end {self.end} must be after its start {self.start}")

    @classmethod
    def night(cls, day: dt.date) -> "Interval":
        return cls(day, day + dt.timedelta(days=1))

    @property
    def slug(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    def __str__(self) -> str:
        return f"[{self.start}, {self.end})"
