"""A synthetic working warehouse for the de-identification tests, generated in SQL (no department systems)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from standards.ddl import all_ddl

COMMUNITIES = [f"3301060{s:02d}00{c}" for s in (1, 2, 3, 4) for c in (1, 2, 3)]  # 4 streets of 3 communities
LINEAGE = "'test_source', 'run-1', TIMESTAMPTZ '2026-06-01 02:00:00+00', md5(CAST(i AS VARCHAR))"


def working_warehouse(path: Path, people: int = 3000, encounters: int = 4000) -> duckdb.DuckDBPyConnection:
    """``people`` persons with exact birth dates, sex, marital status, community and grid (every 40th moved in
    June, so has two versions), ``encounters`` health encounters and one immunization per child under 7."""
    con = duckdb.connect(str(path))
    con.execute(all_ddl())
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute("CREATE MACRO h(x, salt, n) AS CAST(hash(x, salt) % n AS BIGINT)")  # a pseudo-random 0..n-1
    con.execute("CREATE TABLE meta.ledger AS SELECT 'test_source' AS source, 'success' AS status, "
                "DATE '2026-06-01' AS interval_start")
    communities = "[" + ", ".join(f"'{c}'" for c in COMMUNITIES) + "]"
    con.execute(f"""INSERT INTO std.person_history
        SELECT md5('p' || i), CAST(1 + i % 2 AS VARCHAR), DATE '1915-01-01' + CAST(hash(i) % 40000 AS INTEGER),
               ['10', '20', '30', '40'][1 + h(i, 'm', 4)], c, c || lpad(CAST(h(i, 'g', 9) AS VARCHAR), 2, '0'),
               {LINEAGE}, DATE '2026-06-01', NULL, true
        FROM (SELECT i, {communities}[1 + h(i, 'c', {len(COMMUNITIES)})] AS c FROM range({people}) t(i))""")
    con.execute(f"""INSERT INTO std.person_history
        SELECT person_key, sex_code, birth_date, marital_status_code, '{COMMUNITIES[0]}', '{COMMUNITIES[0]}01',
               _source, 'run-0', _extracted_at, md5(_row_hash), DATE '2026-05-01', DATE '2026-06-01', false
        FROM std.person_history WHERE h(person_key, '', 40) = 0""")
    con.execute(f"""INSERT INTO std.health_encounter
        SELECT 'e-' || i, md5('p' || h(i, 'who', {people})), ['AMB', 'EMER', 'IMP'][1 + i % 3],
               TIMESTAMP '2025-06-01 08:00:00' + to_minutes(CAST(hash(i, 't') % 500000 AS BIGINT)),
               TIMESTAMP '2025-06-01 09:00:00' + to_minutes(CAST(hash(i, 't') % 500000 AS BIGINT)),
               ['clinic A', 'clinic B', 'clinic C', 'clinic D'][1 + h(i, 'c', 4)], {LINEAGE}
        FROM range({encounters}) t(i)""")
    con.execute(f"""INSERT INTO std.immunization
        SELECT 'i-' || row_number() OVER (), person_key, 'MMR', birth_date + 400, 'test_source', 'run-1',
               TIMESTAMPTZ '2026-06-01 02:00:00+00', md5(person_key)
        FROM std.person WHERE birth_date > DATE '2019-06-01'""")
    return con
