"""Marts: SQL files in ``warehouse/marts/``, rebuilt after loads, published through disclosure control.

Each file creates one relation and starts with a header comment: the first paragraph describes the mart, then
``-- columns:`` and one ``--   name: description`` line per published column (a line indented further continues
the description). The description feeds ``unsilo tables``, the snapshot's comments and the data dictionary.

A file that creates ``marts_raw.<name>`` computes the raw cells (with hidden helper columns: contributor counts
and largest contributions) into the steward-only schema ``marts_raw``, which the analysts' snapshot leaves out;
:func:`build_marts` then writes ``marts.<name>`` from it through ``warehouse.disclosure_control`` with the rules of
:data:`PROTECTED` (threshold ``UNSILO_MIN_CELL``, default 5) and the report ``marts_raw.disclosure_report``. A file
that creates ``restricted.<name>`` (person-level, authorised use only) is built as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.disclosure_control import Hierarchy, Magnitude, Ratio, Rule, Shared, Table, min_cell, protect

__all__ = ["Mart", "PROTECTED", "build_marts", "marts", "min_cell", "protected", "read_mart"]

MARTS_DIR = Path(__file__).parent / "marts"
RAW = "marts_raw"
REPORT = f"{RAW}.disclosure_report"
CREATES = re.compile(r"CREATE\s+OR\s+REPLACE\s+(?:VIEW|TABLE)\s+([a-z_]+)\.([a-z_0-9]+)", re.IGNORECASE)

#: Margins of both community marts: communities add up to their street, streets to their district.
PLACES = (("community", "community_code"), ("street", "street_code"), ("district", "district_code"))
KEY = ("level", "district_code", "street_code", "community_code")
#: Disclosure rules per mart. Transit stops (public GTFS, no person in them) are exempt; everything counted from
#: persons or households is protected.
PROTECTED = {
    "community_overview": Table(
        name=f"{RAW}.community_overview", output="marts.community_overview", key=KEY,
        counts=("residents", "households", "open_unemployment_claims", "subsidised_households"),
        hierarchies=(Hierarchy("level", PLACES),)),
    "community_month": Table(
        name=f"{RAW}.community_month", output="marts.community_month", key=("month",) + KEY,
        counts=("residents", "households", "working_age_residents", "employed_residents", "open_unemployment_claims",
                "subsidised_households", "overcrowded_households", "children_under_7", "immunized_children",
                "boardings"),
        magnitudes=(Magnitude("clinic_encounters", contributors="encounter_patients", top="top_encounters"),
                    Magnitude("floor_area_per_person_m2", contributors="households_with_area",
                              top="top_floor_area_m2", total="floor_area_m2", additive=False)),
        ratios=(Ratio("employment_rate", "employed_residents", "working_age_residents"),
                Ratio("immunization_coverage", "immunized_children", "children_under_7")),
        hierarchies=(Hierarchy("level", PLACES, by=("month",)),),
        hidden=("floor_area_m2", "households_with_area", "top_floor_area_m2", "encounter_patients", "top_encounters"),
        exempt=("transit_stops", "stops_within_walk")),
}
#: Figures both marts publish: community_overview (now) and community_month's last month (as of the last night).
SHARED_MEASURES = ("residents", "households", "open_unemployment_claims", "subsidised_households")


@dataclass(frozen=True)
class Mart:
    name: str  # what analysts read: marts.<name> for a protected mart
    path: Path
    description: str
    columns: dict[str, str]
    creates: str = ""  # what the SQL creates: marts_raw.<name> for a protected mart

    @property
    def schema(self) -> str:
        return self.creates.split(".")[0]


def read_mart(path: Path) -> Mart:
    text = path.read_text(encoding="utf-8")
    found = CREATES.search(text)
    if not found:
        raise ValueError(f"{path}: a mart file must CREATE OR REPLACE VIEW|TABLE <schema>.<name>")
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line[2:])
    about, columns, in_columns = [], {}, False
    for raw in header:
        line = raw.strip()
        if line.lower() == "columns:":
            in_columns = True
        elif in_columns and columns and raw.startswith("    "):  # continues the column above
            last = list(columns)[-1]
            columns[last] += " " + line
        elif in_columns and ":" in line:
            name, doc = line.split(":", 1)
            columns[name.strip()] = doc.strip()
        elif not in_columns and line:
            about.append(line)
    if not about:
        raise ValueError(f"{path}: start the file with a comment that describes the mart")
    schema, table = found.group(1), found.group(2)
    name = f"marts.{table}" if schema == RAW else f"{schema}.{table}"
    return Mart(name, path, " ".join(about), columns, f"{schema}.{table}")


def marts() -> list[Mart]:
    return [read_mart(p) for p in sorted(MARTS_DIR.glob("*.sql"))]


def protected(con: duckdb.DuckDBPyConnection) -> tuple[list[Table], list[Shared]]:
    """The protected marts' tables and the figures they share (the last month of community_month is 'now')."""
    tables = list(PROTECTED.values())
    last = con.execute(f"SELECT max(month) FROM {RAW}.community_month").fetchone()[0]
    if last is None:
        return tables, []
    same = " AND ".join(f"l.{k} IS NOT DISTINCT FROM r.{k}" for k in KEY)
    return tables, [Shared("marts.community_overview", "marts.community_month",
                           f"{same} AND r.month = DATE '{last.isoformat()}'", SHARED_MEASURES)]


def build_marts(con: duckdb.DuckDBPyConnection, rule: Rule | None = None) -> list[str]:
    """Build every mart in one transaction: raw cells into ``marts_raw``, then ``marts.*`` through disclosure control.

    One transaction, so that the marts sharing figures never stand half rebuilt (a figure withheld in the new
    community_month but shown in the old community_overview would give it away)."""
    built = []
    con.execute("BEGIN TRANSACTION")
    try:
        for m in marts():
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {m.schema}")
            con.execute(m.path.read_text(encoding="utf-8"))
            if m.schema == RAW:
                con.execute("CREATE SCHEMA IF NOT EXISTS marts")
                view = con.execute("SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() "
                                   "AND schema_name = 'marts' AND view_name = ?", [m.name.split(".")[1]]).fetchone()[0]
                if view:  # a warehouse built before disclosure control had the marts as views
                    con.execute(f"DROP VIEW {m.name}")
            built.append(m.name)
        tables, shared = protected(con)
        protect(con, tables, rule or Rule(threshold=min_cell()), shared, report=REPORT)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return built
