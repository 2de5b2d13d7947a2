"""The demo's later nights: what the departments deliver on the nights after the first, so a steward can try
incremental runs and a backfill (``unsilo backfill --department transport --from 2026-06-01 --to 2026-06-03``).

Night 1 (``clock.NIGHT``) is generated in full. Each later night delivers, under its own date:

- employment: the social-security system's nightly export again (a full export: the records are the same, so a run
  loads nothing new and counts them ``unchanged``);
- health: the FHIR Bulk Data export again, in ``health/bulk/<day>/``;
- transport: the day's smart-card ridership, ``ridership/ridership_<day>.csv``, the same stops and counts with that
  day's ``service_date`` (new rows for the warehouse);
- housing: nothing: its database is read by ``updated_at``, and no row changes after night 1, so a later night
  reads no rows from it.

Deterministic: the later nights derive from night 1's files, not from a random draw.
"""

from __future__ import annotations

import datetime
import pathlib
import shutil

from unsilo.demo import clock, employment, transport


def later_nights(departments: pathlib.Path, nights: int) -> list[datetime.date]:
    """Write the drops of nights 2..``nights`` next to night 1's; return every night's date."""
    days = [clock.NIGHT + datetime.timedelta(days=k) for k in range(max(1, nights))]
    drop = departments / "employment" / "drop"
    bulk = departments / "health" / "bulk"
    ridership = departments / "transport" / "ridership"
    first = (ridership / transport.RIDERSHIP_FILE).read_text(encoding="utf-8")
    for day in days[1:]:
        for name in (employment.REGISTRATION_FILE, employment.UNEMPLOYMENT_FILE):
            shutil.copyfile(drop / name, drop / name.replace(f"{clock.NIGHT:%Y%m%d}", f"{day:%Y%m%d}"))
        shutil.copytree(bulk / f"{clock.NIGHT:%Y-%m-%d}", bulk / f"{day:%Y-%m-%d}", dirs_exist_ok=True)
        lines = first.splitlines(keepends=True)
        moved = [lines[0]] + [line.replace(f"{clock.NIGHT.isoformat()},", f"{day.isoformat()},", 1)
                              if line.startswith(f"{clock.NIGHT.isoformat()},") else line for line in lines[1:]]
        (ridership / f"ridership_{day:%Y%m%d}.csv").write_text("".join(moved), encoding="utf-8")
    return days
