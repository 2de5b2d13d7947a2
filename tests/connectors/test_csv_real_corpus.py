"""Every real CSV under ../shared/data/real/{badcsv,employment,housing} runs through csv_drop without a crash, and
the rows read reconcile: rows read = rows passed on + rows rejected, each reject with its physical line and reason."""

from __future__ import annotations

from collections import Counter

import pytest

from connectors import CsvDrop
from tests.connectors.conftest import REAL, read_table

FOLDERS = ("badcsv", "employment", "housing")
FILES = sorted(
    str(p.relative_to(REAL)) for d in FOLDERS if (REAL / d).is_dir() for p in (REAL / d).rglob("*") if p.is_file()
)

# What reading each file by eye gives (encoding auto, dialect sniffed, preamble found): the rows it holds under
# its header, and the rejects by reason with their physical lines. Files not listed have no reject.
REJECTS = {
    # 'column_a,column_b,column_c' then a row of 4 fields (line 2) and one of 2 (line 3)
    "badcsv/csvkit/bad.csv": {"ragged-row": [2, 3]},
    # a completely empty line 3 between records
    "badcsv/frictionless/blank-rows-no-fields.csv": {"blank-line": [3]},
    # line 4 is ',,' under a 3-column header
    "badcsv/frictionless/blank-rows.csv": {"blank-row": [4]},
    # '8,Warsaw' (2 fields), an empty line, 'x,Tokio,Japan,review' (4 fields)
    "badcsv/frictionless/capital-invalid.csv": {"ragged-row": [10, 12], "blank-line": [11]},
    # '1101,John' (2 fields) and '1102,Julie,26,Potatoes' (4) under 'id,name,age'
    "badcsv/frictionless/defective-rows.csv": {"ragged-row": [2, 3]},
    "badcsv/frictionless/invalid.csv": {"ragged-row": [2, 3, 5], "blank-line": [4]},
    # the '#' line above the header is preamble; the one between rows has one field
    "badcsv/frictionless/skip-rows.csv": {"ragged-row": [4]},
    "badcsv/frictionless/structure-errors.csv": {"blank-row": [4], "ragged-row": [5]},
    # no header: the first row is taken as one, the 3-field last row is ragged
    "badcsv/frictionless/without-headers-extra.csv": {"ragged-row": [3]},
    # a note and a source line below the table (one field each)
    "badcsv/gbk/分省年度数据.csv": {"ragged-row": [36, 37]},
    # 2011..2024 leave the empty footnotes field out (short_rows: pad in a YAML pads them)
    "employment/bls-employment-us/aat1.csv": {"ragged-row": list(range(73, 87))},
}


@pytest.mark.parametrize("name", FILES)
def test_real_csv_reads_and_reconciles(real, name):
    path = real / name
    conn = CsvDrop(source_id="t", options={"folder": str(path.parent), "pattern": path.name})
    table = read_table(conn)
    if table.num_rows == 0:
        assert path.stat().st_size <= 1
        assert name in ("badcsv/csvkit/empty.csv", "badcsv/frictionless/empty.csv")
        return
    rejects = table.column("_reject").to_pylist()
    lines = [int(s.rsplit(":", 1)[1]) for s in table.column("_source_row").to_pylist()]
    ok = sum(r is None for r in rejects)
    by_reason: dict[str, list[int]] = {}
    for reason, line in zip(rejects, lines):
        if reason:
            by_reason.setdefault(reason, []).append(line)
    assert ok + sum(map(len, by_reason.values())) == table.num_rows
    assert by_reason == REJECTS.get(name, {})
    assert lines == sorted(set(lines)), "physical line numbers strictly increase"
    raws = table.column("_raw").to_pylist()
    assert all((raw is None) == (reason is None) for raw, reason in zip(raws, rejects))
    assert Counter(conn.reports[0].columns).most_common(1)[0][1] == 1, "header names are unique"


def test_corpus_is_there():
    assert len(FILES) >= 60 or not REAL.is_dir()


def test_zipped_csv_member_is_read(real):
    path = real / "housing" / "nycdb" / "dcp_housingdb.zip"
    table = read_table(CsvDrop(source_id="t", options={"folder": str(path.parent), "pattern": path.name}))
    import csv
    import io
    import zipfile

    with zipfile.ZipFile(path) as z:
        header, *records = list(csv.reader(io.StringIO(z.read(z.namelist()[0]).decode("utf-8-sig"))))
    assert table.num_rows == len([r for r in records if r]) > 0
    assert table.column(header[0]).to_pylist() == [r[0] for r in records if r]
