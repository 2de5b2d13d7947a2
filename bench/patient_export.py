"""A deterministic FHIR R4 Bulk Data export of N Patient resources (NDJSON, one resource per line), any size.

    python bench/patient_export.py OUT.ndjson --rows 1000000 [--seed 1] [--changed 0.01 [--only-changed]]

Each line is a Patient shaped like those the demo generator writes (unsilo/demo/health.py): ``meta.lastUpdated``,
a resident-ID ``identifier`` (valid GB 11643, unique per patient), an official ``name`` with family and given,
``gender``, ``birthDate``, ``maritalStatus`` coded in v3 MaritalStatus, and a home ``address`` carrying the
community and grid codes of the demo district as extensions (so sources/health_patient.yaml maps every line onto
the standard's person entity and a full night quarantines nothing). Random draws come from numpy with a fixed seed;
DuckDB builds the JSON and writes the file, so 1M resources take a few seconds.

``--changed F``: the next night's export, the same patients with a fraction F of them moved to another address (new
community, grid and address text, ``lastUpdated`` on the next night). ``--only-changed``: only those, as a Bulk Data
export with ``_since`` would send them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from bench.employment_export import export_arguments
from unsilo.demo import places
from unsilo.demo.health import (COMMUNITY_EXTENSION, GRID_EXTENSION, MARITAL_DISPLAY, MARITAL_SYSTEM,
                                RESIDENT_ID_SYSTEM)

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK = np.array(list("10X98765432"))
FAMILY = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "子涵", "浩然", "欣怡", "雨桐", "宇轩", "梓萱"]
MARITAL = ["S", "M", "W", "D", "UNK"]
MARITAL_WEIGHTS = [0.30, 0.55, 0.07, 0.06, 0.02]
FIRST_BIRTH = np.datetime64("1935-01-01")
BIRTH_DAYS = 32_850  # 1935-01-01 .. 2024-12-10: one birth day per key, then the sequence number
MAX_ROWS = BIRTH_DAYS * 500  # resident IDs stay unique: sequence numbers 000..999, two per (day, sex)
GRIDS = [(c.code, g, c.roads) for c in places.COMMUNITIES for g in c.grids]
NIGHT_SECONDS = 15 * 3600 + 1800  # export stamps 08:00:00..23:29:59 +08:00, as unsilo/demo/clock.py


def _resident_ids(keys: np.ndarray, male: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique GB 11643 IDs (district 330106) and the matching birth dates, one per key in ``[0, MAX_ROWS)``."""
    birth = FIRST_BIRTH + (keys % BIRTH_DAYS).astype("timedelta64[D]")
    seq = (keys // BIRTH_DAYS) * 2 + male  # the 17th digit is odd for men
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D").astype(str), "-", "")
    first17 = np.char.add(np.char.add(places.DISTRICT_CODE, ymd), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer("".join(first17.tolist()).encode(), dtype=np.uint8).reshape(len(keys), 17) - 48
    return np.char.add(first17, CHECK[(digits * WEIGHTS).sum(axis=1) % 11]), np.datetime_as_string(birth, unit="D")


def _homes(rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
    """Draws of a home: grid cell (and so community), road, house number, building, entrance, room."""
    return {"grid_no": rng.integers(0, len(GRIDS), rows), "road_no": rng.integers(0, 3, rows),
            "house": rng.integers(1, 321, rows), "building": rng.integers(1, 13, rows),
            "entrance": rng.integers(1, 4, rows), "room": rng.integers(101, 1803, rows)}


def draws(rows: int, seed: int) -> pa.Table:
    """The random facts of every patient, as plain columns (strings and integers)."""
    if not 0 < rows <= MAX_ROWS:
        raise ValueError(f"rows must be in 1..{MAX_ROWS:,}")
    rng = np.random.default_rng(seed)
    keys = rng.permutation(rows)
    male = rng.integers(0, 2, rows)
    ids, birth = _resident_ids(keys, male)
    marital = np.array(MARITAL)[rng.choice(len(MARITAL), rows, p=MARITAL_WEIGHTS)]
    marital = np.where(birth > "2006-06-01", "S", marital)  # under 20 on the night: never married
    columns = {
        "n": np.arange(rows), "id_number": ids, "birth": birth, "male": male.astype(bool), "marital": marital,
        "family": rng.integers(0, len(FAMILY), rows), "given": rng.integers(0, len(GIVEN), rows),
        "stamp": rng.integers(0, NIGHT_SECONDS, rows), **_homes(rng, rows),
    }
    return pa.table({k: pa.array(v.tolist() if v.dtype.kind == "U" else v) for k, v in columns.items()})


def changed(table: pa.Table, fraction: float, seed: int) -> tuple[pa.Table, np.ndarray]:
    """The next night: a fraction of the patients moved (new home), stamped on the next night."""
    rng = np.random.default_rng(seed + 1)
    mask = rng.random(table.num_rows) < fraction
    moved = _homes(rng, table.num_rows)
    # always another grid cell, so the move changes the person's community/grid in the standard
    moved["grid_no"] = (table.column("grid_no").to_numpy() + 1 + rng.integers(0, len(GRIDS) - 1, table.num_rows)) \
        % len(GRIDS)
    for name, values in moved.items():
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pa.array(np.where(mask, values, table.column(name).to_numpy())))
    day = pa.array(np.where(mask, 1, 0))
    return table.append_column("day", day), mask


def _lookup(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def write(table: pa.Table, path: Path) -> None:
    """One Patient per line, in the order of ``n``, written by DuckDB's JSON writer (compact, UTF-8)."""
    if "day" not in table.column_names:
        table = table.append_column("day", pa.array(np.zeros(table.num_rows, dtype=np.int64)))
    path.parent.mkdir(parents=True, exist_ok=True)
    grids = pa.table({"grid_no": range(len(GRIDS)), "community": [c for c, _, _ in GRIDS],
                      "grid": [g for _, g, _ in GRIDS], "roads": [list(r) for _, _, r in GRIDS]})
    marital_display = "CASE marital " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in MARITAL_DISPLAY.items()) + " END"
    con = duckdb.connect()
    con.register("draws", table)
    con.register("grids", grids)
    con.execute(f"""COPY (
        SELECT 'Patient' AS resourceType,
            printf('p-%07d', n) AS id,
            {{'lastUpdated': strftime(TIMESTAMP '2026-06-01 08:00:00' + to_days(day) + to_seconds(stamp),
                                      '%Y-%m-%dT%H:%M:%S+08:00')}} AS meta,
            [{{'system': '{RESIDENT_ID_SYSTEM}', 'value': id_number}}] AS identifier,
            [{{'use': 'official', 'text': {_lookup(FAMILY)}[family + 1] || {_lookup(GIVEN)}[given + 1],
               'family': {_lookup(FAMILY)}[family + 1], 'given': [{_lookup(GIVEN)}[given + 1]]}}] AS name,
            CASE WHEN male THEN 'male' ELSE 'female' END AS gender,
            birth AS birthDate,
            {{'coding': [{{'system': '{MARITAL_SYSTEM}', 'code': marital, 'display': {marital_display}}}]}}
                AS maritalStatus,
            [{{'extension': [{{'url': '{COMMUNITY_EXTENSION}', 'valueCode': g.community}},
                             {{'url': '{GRID_EXTENSION}', 'valueCode': g.grid}}],
               'use': 'home',
               'text': g.roads[road_no % len(g.roads) + 1] || '路' || house || '号' || building || '栋' || entrance || '单元'
                       || room || '室',
               'city': '{places.CITY_NAME}', 'district': '{places.DISTRICT_NAME}',
               'state': '{places.PROVINCE_NAME}', 'country': 'CN'}}] AS address
        FROM draws d JOIN grids g USING (grid_no)
        ORDER BY n
    ) TO '{path}' (FORMAT json)""")
    con.close()


def export(path: Path, rows: int, seed: int = 1, fraction: float | None = None, only_changed: bool = False) -> int:
    """Write the export; return the number of resources written."""
    table = draws(rows, seed)
    if fraction is not None:
        table, mask = changed(table, fraction, seed)
        if only_changed:
            table = table.filter(pa.array(mask))
    write(table, path)
    return table.num_rows


def main() -> None:
    args = export_arguments(__doc__, "patients moved", "patients")
    export(args.out, args.rows, args.seed, args.changed, args.only_changed)


if __name__ == "__main__":
    main()
