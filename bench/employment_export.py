"""A deterministic employment export (CSV, UTF-8, 15 columns) of any size, generated with vectorized numpy.

    python bench/employment_export.py OUT.csv --rows 1000000 [--seed 1] [--changed 0.01 --base-seed 1]

Rows carry valid GB 11643 resident IDs and codes from the standard's code lists, so a full night validates
them all. ``--changed F`` writes the same registrations as the base export with a fraction F of them changed
(an end date set), as the next night's export.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK = np.array(list("10X98765432"))
HEADER = ["registration_no", "id_number", "name", "sex", "registered_on", "ended_on", "employer", "industry",
          "occupation", "employment_form", "community_code", "monthly_wage", "contract_type", "phone", "updated_at"]
FAMILY = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
GIVEN = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"))
COMMUNITIES = np.array([f"330106{s:03d}{c:03d}" for s in range(1, 5) for c in range(1, 5)])


def export(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    birth = np.datetime64("1960-01-01") + rng.integers(0, 40 * 365, rows).astype("timedelta64[D]")
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D").astype(str), "-", "")
    seq = np.char.zfill(rng.integers(0, 1000, rows).astype(str), 3)
    first17 = np.char.add(np.char.add("330106", ymd), seq)
    digits = np.frombuffer("".join(first17.tolist()).encode(), dtype=np.uint8).reshape(rows, 17) - 48
    ids = np.char.add(first17, CHECK[(digits * WEIGHTS).sum(axis=1) % 11])
    started = np.datetime64("2015-01-01") + rng.integers(0, 3000, rows).astype("timedelta64[D]")
    sex = np.where(seq.astype(int) % 2 == 1, "男", "女")
    table = {
        "registration_no": np.char.add("JY", np.char.zfill(np.arange(rows).astype(str), 10)),
        "id_number": ids,
        "name": np.char.add(FAMILY[rng.integers(0, len(FAMILY), rows)], GIVEN[rng.integers(0, len(GIVEN), rows)]),
        "sex": sex,
        "registered_on": np.datetime_as_string(started, unit="D"),
        "ended_on": np.full(rows, ""),
        "employer": np.char.add("杭州", np.char.add(rng.integers(1, 5000, rows).astype(str), "号有限公司")),
        "industry": np.array(list("ABCDEFGHIJKLMNOPQRS"))[rng.integers(0, 19, rows)],
        "occupation": rng.integers(1, 7, rows).astype(str),
        "employment_form": np.array(["全日制", "非全日制", "灵活就业"])[rng.integers(0, 3, rows)],
        "community_code": COMMUNITIES[rng.integers(0, len(COMMUNITIES), rows)],
        "monthly_wage": rng.integers(2500, 40000, rows).astype(str),
        "contract_type": np.array(["固定期限", "无固定期限", "劳务派遣"])[rng.integers(0, 3, rows)],
        "phone": np.char.add("13", np.char.zfill(rng.integers(0, 10**9, rows).astype(str), 9)),
        "updated_at": np.full(rows, "2026-06-01 20:00:00"),
    }
    return pa.table({k: pa.array(table[k].tolist(), pa.string()) for k in HEADER})


def changed(table: pa.Table, fraction: float, seed: int) -> pa.Table:
    """The next night: a fraction of registrations ended (their end date set)."""
    rng = np.random.default_rng(seed + 1)
    mask = pa.array(rng.random(table.num_rows) < fraction)
    ended = pc.if_else(mask, pa.scalar("2026-06-02"), table.column("ended_on"))
    return table.set_column(HEADER.index("ended_on"), "ended_on", ended), mask


def write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def export_arguments(doc: str, changed: str, what: str) -> argparse.Namespace:
    """The options of every benchmark export generator: OUT, --rows, --seed, --changed, --only-changed."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--changed", type=float, default=None, help=f"the next night: this fraction of {changed}")
    p.add_argument("--only-changed", action="store_true", help=f"with --changed: write only the changed {what}")
    return p.parse_args()


def main() -> None:
    args = export_arguments(__doc__, "rows changed", "rows")
    table = export(args.rows, args.seed)
    if args.changed is not None:
        table, mask = changed(table, args.changed, args.seed)
        if args.only_changed:
            table = table.filter(mask)
    write(table, args.out)


if __name__ == "__main__":
    main()
