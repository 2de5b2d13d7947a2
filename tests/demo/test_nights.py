"""The demo delivers several nights: the later nights' drops exist under their own dates, night 1 is unchanged."""

from __future__ import annotations

import csv
import hashlib

from unsilo.demo import generate

PEOPLE = 120


def digest(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "truth.json"}


def test_three_nights_of_drops_with_night_one_as_before(tmp_path):
    one, three = tmp_path / "one", tmp_path / "three"
    generate(one, people=PEOPLE)
    truth = generate(three, people=PEOPLE, nights=3)
    assert truth["nights"] == ["2026-06-01", "2026-06-02", "2026-06-03"]
    first, later = digest(one / "departments"), digest(three / "departments")
    assert {k: later[k] for k in first} == first  # night 1 is exactly the one-night demo
    dep = three / "departments"
    for day, stamp in (("2026-06-02", "20260602"), ("2026-06-03", "20260603")):
        assert (dep / "employment" / "drop" / f"就业登记_{stamp}.csv").read_bytes() == \
            (dep / "employment" / "drop" / "就业登记_20260601.csv").read_bytes()
        assert sorted(p.name for p in (dep / "health" / "bulk" / day).iterdir()) == \
            sorted(p.name for p in (dep / "health" / "bulk" / "2026-06-01").iterdir())
        with (dep / "transport" / "ridership" / f"ridership_{stamp}.csv").open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        with (dep / "transport" / "ridership" / "ridership_20260601.csv").open(encoding="utf-8") as f:
            before = list(csv.DictReader(f))
        assert len(rows) == len(before)
        assert {r["service_date"] for r in rows if r["service_date"] == day} and \
            not any(r["service_date"] == "2026-06-01" for r in rows)  # each day's own service date
    assert "nights" not in generate(tmp_path / "again", people=PEOPLE)  # the 1-night truth is as it was
