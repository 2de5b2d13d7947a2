"""No cell value of a source leaves the steward zone in a message (issue 11, item 6).

On a generated night, the next night's drops go wrong the ways departments get them wrong: a CSV without its header
row, a CSV with one extra field in the middle of a row, a CSV in UTF-8 where GB18030 is declared and one in GB18030
where UTF-8 is declared, a Latin-1 CSV where GB18030 is declared, and a FHIR Patient with an impossible birth date.
The night runs in-process (exceptions, tracebacks and Python logging at DEBUG captured) and through the CLI (stdout,
stderr, logging at DEBUG); then the ledger, all of that, the Data Docs under the data root and the analysts' snapshot
are scanned for every value of those drops longer than 3 characters: none may appear.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path

import duckdb
import pytest
import yaml

from standards.redact import looks_like_data, scrub, shown_header
from tests.night_fixture import KEY, generated_night
from unsilo.catalog import sources
from unsilo.demo.resident_id import compose
from unsilo.interval import Interval
from unsilo.night import run_source
from unsilo.settings import REPO, settings

NIGHT2 = dt.date(2026, 6, 2)
REG_HEADER = ["登记编号", "身份证号", "姓名", "性别", "登记日期", "终止日期", "单位名称", "行业代码", "职业代码",
              "用工形式", "社区代码"]
UNEMP_HEADER = ["登记编号", "身份证号", "姓名", "性别", "失业登记日期", "注销日期", "领取失业保险金", "登记状态",
                "社区代码"]
COPIED = ("employment_registration", "employment_unemployment", "health_patient")


def person(i: int, name: str, born: dt.date) -> tuple[str, str, str]:
    """(ID number, name, phone) of a person no generated night has."""
    return compose("110105", born, 700 + i), name, f"139{70000000 + i * 7919:08d}"


# the values of the drops: fresh people, dates no other row has
PEOPLE = [person(i, name, dt.date(1961 + i, 1 + i, 3 + i)) for i, name in
          enumerate(["欧阳建国", "司马秀英", "张伟", "陈媛秀", "王宇", "李芳媛", "赵思远", "孙丽"])]


def registration_rows(people, community: str) -> list[list[str]]:
    return [[f"DJ2011{i:06d}", pid, name, "男", f"2011-0{1 + i % 8}-1{i % 9}", "", f"{name}商贸有限公司", "F51",
             "4-01-02", "01", community] for i, (pid, name, _) in enumerate(people)]


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp, people=120)
        src_dir = n.home / "sources"
        src_dir.mkdir()
        for sid in COPIED:
            (src_dir / f"{sid}.yaml").write_text((REPO / "sources" / f"{sid}.yaml").read_text(encoding="utf-8"),
                                                 encoding="utf-8")
        mp.setenv("UNSILO_SOURCES", str(src_dir))
        n.run()  # night 1: all three succeed and save their columns
        n.values, n.quarantined = build_drops(n, src_dir)
        n.console, n.logs = run_in_process(n)
        n.cli = run_cli(n)
        yield n


def build_drops(n, src_dir: Path) -> tuple[set[str], set[str]]:
    """Write the night-2 drops; return (every value of them, the personal values of rows that must not load)."""
    community = sorted(n.truth["population"]["communities"])[0]
    drop = n.home / "departments" / "employment" / "drop"
    rows = registration_rows(PEOPLE[:3], community)
    # 1. no header row: the first data row is read as the header
    (drop / "就业登记_20260602.csv").write_bytes(csv_text(rows).encode("gb18030"))
    # 2. one extra field in the middle of the third row (an unquoted comma in the name)
    unemp = [[f"SY2026{900 + i}", pid, name, "女", f"2024-03-0{i + 1}", "", "是", "登记", community]
             for i, (pid, name, _) in enumerate(PEOPLE[3:6])]
    shifted = unemp[2][:3] + ["东区"] + unemp[2][3:]
    (drop / "失业登记_20260602.csv").write_bytes(csv_text([UNEMP_HEADER, *unemp[:2], shifted]).encode("gb18030"))
    # 3. the wrong encoding: UTF-8 declared GB18030, GB18030 declared UTF-8, Latin-1 declared GB18030
    wrong = {"utf8_as_gb18030": ("gb18030", "utf-8"), "gb18030_as_utf8": ("utf-8", "gb18030"),
             "latin1_as_gb18030": ("gb18030", "latin-1")}
    enc_rows = registration_rows(PEOPLE[6:8], community)
    latin = [["DJ2011777001", PEOPLE[7][0], "José Müller", "M", "2011-12-24", "", "Bäckerei Größe GmbH", "F51",
              "4-01-02", "01", community]]
    ascii_header = ["reg_no", "id_no", "name", "sex", "start", "end", "employer", "industry", "occupation", "form",
                    "community"]
    for sid, (declared, written) in wrong.items():
        header, body = (ascii_header, latin) if written == "latin-1" else (REG_HEADER, enc_rows)
        (drop / f"{sid}_20260602.csv").write_bytes(csv_text([header, *body]).encode(written))
        doc = yaml.safe_load((REPO / "sources" / "employment_registration.yaml").read_text(encoding="utf-8"))
        doc["id"] = sid
        doc["connector"].update(pattern=f"{sid}_{{date:%Y%m%d}}.csv", encoding=declared)
        doc["columns"] = header
        if written == "latin-1":
            doc["fields"] = {f: (dict(spec, **{"from": ascii_header[REG_HEADER.index(spec["from"])]})
                                 if isinstance(spec, dict) else ascii_header[REG_HEADER.index(spec)])
                             for f, spec in doc["fields"].items()}
        (src_dir / f"{sid}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    # 4. a FHIR Patient with an impossible birth date next to a good one
    bulk = n.home / "departments" / "health" / "bulk" / "2026-06-02"
    bulk.mkdir(parents=True)
    good = json.loads((n.home / "departments" / "health" / "bulk" / "2026-06-01" / "Patient.ndjson")
                      .read_text(encoding="utf-8").splitlines()[0])
    bad = json.loads(json.dumps(good))
    bad["id"], bad["birthDate"] = "p-bad-0001", "1990-13-45"
    bad["identifier"][0]["value"] = PEOPLE[0][0]
    bad["name"] = [{"use": "official", "text": "上官婉儿", "family": "上官", "given": ["婉儿"]}]
    bad["telecom"] = [{"system": "phone", "value": PEOPLE[0][2]}]
    (bulk / "Patient.ndjson").write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in (good, bad)) + "\n",
                                         encoding="utf-8")
    values = {v for r in rows + unemp + [shifted] + enc_rows + latin for v in r}
    values |= {PEOPLE[0][0], "上官婉儿", "婉儿", "1990-13-45", PEOPLE[0][2], "p-bad-0001"}
    values |= {p[2] for p in PEOPLE}
    quarantined = {v for r in rows + [shifted] + enc_rows + latin for v in r[1:3] + r[4:5]}
    quarantined |= {PEOPLE[0][0], "上官婉儿", "1990-13-45", PEOPLE[0][2]}
    return {v for v in values if len(v) > 3}, {v for v in quarantined if len(v) > 3}


def csv_text(rows: list[list[str]]) -> str:
    return "".join(",".join(r) + "\r\n" for r in rows)


class Everything(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def run_in_process(n) -> tuple[str, str]:
    """Run night 2's sources here; return (what a console or an Airflow task log shows of the failures: each
    message and traceback, the logging records at DEBUG)."""
    handler = Everything()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    shown = []
    try:
        cfg = settings()
        for src in sources(cfg):
            try:
                entry = run_source(src, Interval.night(NIGHT2), cfg)
                shown.append(f"{src['id']}: {entry.status} {entry.message or ''}")
            except Exception as exc:  # noqa: BLE001 - what a log prints of it is what is scanned
                shown.append("".join(traceback.format_exception(exc)))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    return "\n".join(shown), "\n".join(handler.lines)


def run_cli(n) -> str:
    """``unsilo night`` and ``unsilo ledger`` as a user runs them, Python logging at DEBUG on stderr."""
    env = dict(os.environ, UNSILO_HOME=str(n.home), UNSILO_PSEUDONYM_KEY=KEY, COLUMNS="200", PYTHONPATH=str(REPO))
    boot = "import logging, sys; logging.basicConfig(level=logging.DEBUG); from unsilo.cli import run; run()"
    out = []
    for args in (["night", "--date", NIGHT2.isoformat()], ["sync", "utf8_as_gb18030", "--start", NIGHT2.isoformat()],
                 ["ledger", "--json"], ["quarantine", "list"]):
        done = subprocess.run([sys.executable, "-c", boot, *args], env=env, capture_output=True, text=True,
                              timeout=300)
        out.append(f"$ unsilo {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}")
    n.cli_codes = [o.split(" -> ")[1].split("\n")[0] for o in out]
    return "\n".join(out)


def found(text: str, values: set[str]) -> list[str]:
    return sorted(v for v in values if v in text)


def test_the_drops_failed_or_were_quarantined_as_they_should(night):
    with night.connect() as con:
        rows = dict(con.execute(
            "SELECT source, list(status || ': ' || coalesce(message, '') ORDER BY started_at) FROM meta.ledger "
            "WHERE interval_start = DATE '2026-06-02' GROUP BY source").fetchall())
    assert any("the line read as the header looks like a data row" in m for m in rows["employment_registration"])
    assert any("new columns at positions 1, 2, 3, 4" in m and "(header hidden: looks like data)" in m
               for m in rows["employment_registration"])
    assert all(m.startswith("success") for m in rows["employment_unemployment"])
    assert any(m.startswith("failed") for m in rows["gb18030_as_utf8"])
    assert night.cli_codes[0] == "1"  # sources failed: the night says so and exits non-zero
    with night.connect() as con:
        held = con.execute("SELECT source, count(*) FROM meta.quarantine WHERE interval_start = DATE '2026-06-02' "
                           "GROUP BY source").fetchall()
    assert {"employment_unemployment", "health_patient"} <= {s for s, _ in held}


def test_the_ledger_carries_no_value(night):
    with night.connect() as con:
        cols = [c for c, t in con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE "
                                          "table_schema = 'meta' AND table_name = 'ledger'").fetchall()
                if t == "VARCHAR"]
        text = "\n".join(" ".join(map(str, r)) for r in con.execute(
            f"SELECT {', '.join(cols)} FROM meta.ledger").fetchall())
    assert "message" in cols
    assert found(text, night.values) == []


def test_console_tracebacks_and_logs_carry_no_value(night):
    assert "employment_registration" in night.console and "Traceback" in night.console
    assert found(night.console, night.values) == []
    assert found(night.logs, night.values) == []


def test_the_cli_carries_no_value_but_quarantine_list_names_the_rows(night):
    night_out, sync_out, ledger_out, quarantine_out = night.cli.split("\n$ unsilo ")
    assert "error:" in night_out and "employment_registration" in night_out
    assert "error:" in sync_out and "utf8_as_gb18030" in sync_out
    assert found(night_out + sync_out + ledger_out, night.values) == []
    assert "失业登记_20260602.csv:4" in quarantine_out  # the steward's place names the row (list shows no values)


def test_data_docs_carry_no_value(night):
    pages = [p for p in (night.home / "quality").rglob("*") if p.is_file() and p.suffix in (".html", ".json")]
    assert pages
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in pages)
    assert found(text, night.values) == []


def test_the_snapshot_carries_no_value_of_a_refused_row(night):
    snapshot = settings().snapshots / "current.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        tables = con.execute("SELECT table_schema, table_name, column_name FROM information_schema.columns "
                             "WHERE data_type = 'VARCHAR'").fetchall()
        text = "\n".join(str(v) for s, t, c in tables for (v,) in con.execute(
            f'SELECT DISTINCT "{c}" FROM "{s}"."{t}"').fetchall())
    assert found(text, night.quarantined) == []


# the redaction rule itself -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["身份证号", "姓名", "birth_date", "col_2019", "登记编号", "单位名称", "金额",
                                  "Stop Name", "stop_lat", "领取失业保险金", "社区代码", "性别", "备注"])
def test_header_names_that_are_shown(name):
    assert not looks_like_data(name)


@pytest.mark.parametrize("value", ["110105199001011234", "11010519900101123X", "110105900101123", "张伟", "陈媛秀",
                                   "欧阳建国", "2026-06-01", "2024年11月14日", "20230807", "13800138000",
                                   "138-0013-8000", "a.b@example.cn", "12.5", "黄龙路209号9栋3单元201室", "女",
                                   "x\ufffdy", "SY2026000001", "10:30", "是"])
def test_values_that_look_like_data(value):
    assert looks_like_data(value)


def test_known_columns_are_always_shown_and_a_data_row_hides_its_short_cells():
    assert not looks_like_data("张伟", known={"张伟"})
    row = ["DJ2011000001", "110105199001011234", "张伟", "男", "是", "已注销"]
    assert shown_header(row) == [f"column {i} (header hidden: looks like data)" for i in range(1, 7)]
    assert shown_header(["登记编号", "sex", "已注销"], known={"登记编号"}) == ["登记编号", "sex", "已注销"]


def test_scrub_keeps_paths_and_columns_and_hides_values():
    assert scrub("CSV parse error: Expected 5 columns, got 6: 110105199001011234,张伟,2019-01-01") == \
        "CSV parse error: Expected 5 columns, got 6"
    assert scrub("Conversion Error: Could not convert string '1990-13-45' to DATE") == \
        "Conversion Error: Could not convert string <value hidden> to DATE"
    text = scrub("file '/d/就业登记_20260601.csv' column \"身份证号\" got 张伟 13800138000 at 10:30", known={"身份证号"})
    assert "/d/就业登记_20260601.csv" in text and "身份证号" in text
    assert "张伟" not in text and "13800138000" not in text and "10:30" not in text
    assert scrub("'utf-8' codec can't decode byte 0xd5 in position 3") == \
        "'utf-8' codec can't decode byte 0xd5 in position 3"


def test_own_errors_show_their_lists_of_names_as_headers_and_library_errors_are_scrubbed_in_place():
    from connectors.base import SourceError
    from standards.redact import message_of, redacted

    own = SourceError("source s: columns changed within the interval: ['a', 'b'] then ['110105199001011234', '张伟']")
    assert message_of(own) == str(redacted(own)) == ("source s: columns changed within the interval: [a, b] then "
                                                     "[column 1 (header hidden: looks like data), "
                                                     "column 2 (header hidden: looks like data)]")
    try:
        duckdb.sql("SELECT CAST('1990-13-45' AS DATE)").fetchall()
    except duckdb.ConversionException as exc:
        library = redacted(exc)
    assert isinstance(library, duckdb.ConversionException) and "1990-13-45" not in str(library)
    assert library.__cause__ is None and library.__suppress_context__
