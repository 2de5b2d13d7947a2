import random

import duckdb
import pytest

from standards.gb11643 import CHECK_CHARS, WEIGHTS, normalized_sql, number_sql, valid_sql


def python_check(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def sql_valid(values, precomputed: bool = False):
    """The check in SQL; ``precomputed``: as the transform runs it, with the 17-digit number a column one level down."""
    con = duckdb.connect()
    check = valid_sql("y", "n") if precomputed else valid_sql(normalized_sql("x"))
    rows = con.execute(
        f"SELECT {check} FROM (SELECT *, {normalized_sql('x')} AS y, {number_sql('y')} AS n "
        "FROM (SELECT unnest(?) AS x, generate_subscripts(?, 1) AS i)) ORDER BY i",
        [values, values],
    ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize(
    "id_number, ok",
    [
        ("11010519491231002X", True),  # the standard's own example
        ("11010519491231002x", True),  # lower-case x is accepted
        ("440524188001010014", True),
        ("110105194912310021", False),  # wrong check character
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),  # too short
        ("A1010519491231002X", False),
        (None, None),
    ],
)
def test_known_numbers(id_number, ok):
    assert sql_valid([id_number]) == sql_valid([id_number], precomputed=True) == [ok]


def test_sql_agrees_with_python_on_random_numbers():
    rng = random.Random(7)
    values, expected = [], []
    for _ in range(2000):
        first = "330106" + f"{rng.randint(1940, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + f"{rng.randint(0, 999):03d}"
        check = python_check(first)
        if rng.random() < 0.5:
            values.append(first + check)
            expected.append(True)
        else:
            wrong = rng.choice([c for c in CHECK_CHARS if c != check])
            values.append(first + wrong)
            expected.append(False)
    assert sql_valid(values) == expected
    assert sql_valid(values, precomputed=True) == expected
