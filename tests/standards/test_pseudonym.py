import duckdb

from standards.pseudonym import hmac_sql, pseudonym

KEY = b"test-key-not-secret"


def test_sql_hmac_matches_python_hmac():
    values = ["11010519491231002X", "张伟", "", "U000001", "a" * 300]
    con = duckdb.connect()
    got = [r[0] for r in con.execute(
        f"SELECT {hmac_sql(KEY, 'person', 'x')} FROM (SELECT unnest(?) AS x, generate_subscripts(?, 1) AS i) ORDER BY i",
        [values, values],
    ).fetchall()]
    assert got == [pseudonym(KEY, "person", v) for v in values]


def test_long_key_and_domains_and_null():
    long_key = b"k" * 100
    con = duckdb.connect()
    a, b, n = con.execute(
        f"SELECT {hmac_sql(long_key, 'person', chr(39) + 'x' + chr(39))}, "
        f"{hmac_sql(long_key, 'household', chr(39) + 'x' + chr(39))}, {hmac_sql(long_key, 'person', 'NULL')}"
    ).fetchone()
    assert a == pseudonym(long_key, "person", "x")
    assert a != b  # equal raw values in different domains never share a key
    assert n is None


def test_key_changes_pseudonym():
    assert pseudonym(b"one", "person", "x") != pseudonym(b"two", "person", "x")
