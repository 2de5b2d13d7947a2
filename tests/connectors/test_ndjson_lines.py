"""ndjson_lines (numpy over byte blocks) gives exactly the lines and batches the old per-line text-mode loop gave."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa
import pytest

from connectors import FhirBulk
from connectors.base import with_source_rows
from connectors.fhir_check import fhir_check
from connectors.ndjson_lines import ndjson_lines, split_lines
from standards.rejects import NOT_FHIR, NOT_JSON, REJECT

NIGHT, NEXT = dt.date(2026, 6, 1), dt.date(2026, 6, 2)
PATIENT = '{"resourceType":"Patient","id":"p-1","name":[{"text":"张伟"}]}'


def old_batches(path, batch_rows: int) -> list[list[str]]:
    """The loop connectors/fhir_bulk.py ran before (text mode, universal newlines, errors replaced)."""
    out, batch = [], []
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            batch.append(line.rstrip("\r\n"))
            if len(batch) >= batch_rows:
                out.append(batch)
                batch = []
    if batch:
        out.append(batch)
    return out


def new_batches(path, batch_rows: int, block_bytes: int = 1 << 20) -> list[list[str]]:
    batches = list(ndjson_lines(path, batch_rows, block_bytes=block_bytes))
    for b in batches:
        b.validate(full=True)  # valid UTF-8 and offsets, whatever the input bytes
        assert b.type == pa.string()
    return [b.to_pylist() for b in batches]


AWKWARD = {
    "lf": b"a\nb\nc\n",
    "crlf": b"a\r\nb\r\nc\r\n",
    "mixed endings": b"a\r\nb\nc\r\n\r\nd",
    "lone cr": b"a\rb\rc",
    "cr cr lf": b"a\r\r\nb\n\r",
    "lf cr": b"a\n\rb\n\r\n",
    "blank lines": b"\n\n{}\n\n\n[]\n\n",
    "only blank": b"\n",
    "only crlf": b"\r\n",
    "only cr": b"\r",
    "empty": b"",
    "no final newline": b'{"a":1}\n{"b":2}',
    "one line no newline": b"x",
    "cjk": PATIENT.encode() + b"\n" + PATIENT.encode(),
    "invalid utf-8": b"ok\xff\xfe\nbad \xe4\xb8\nend \xe4\n\xb8\xad\n\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80\n",
    "truncated char at end": b"a\n\xe4\xb8",
    "nul and controls": b"a\x00b\n\x0bc\x0c\x1c\x1d\x1e\n\xc2\x85 \xe2\x80\xa8 \xe2\x80\xa9\n",
    "bom": b"\xef\xbb\xbf" + PATIENT.encode() + b"\n",
    "very long line": b"s\n" + b'{"x":"' + "长".encode() * 300_000 + b'"}\r\n' + b"t",
    "very long last line": b"s\n" + b"\xe4\xb8\xad" * 200_000 + b"\xe4",
}


@pytest.mark.parametrize("name", list(AWKWARD))
@pytest.mark.parametrize("block_bytes", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("batch_rows", [1, 2, 3, 1000])
def test_awkward_inputs_split_like_text_mode(tmp_path, name, block_bytes, batch_rows):
    path = tmp_path / "x.ndjson"
    path.write_bytes(AWKWARD[name])
    if block_bytes < 64 and len(AWKWARD[name]) > 10_000:
        block_bytes = 4096  # the long lines at 1-byte blocks would only make the test slow
    assert new_batches(path, batch_rows, block_bytes) == old_batches(path, batch_rows)


@pytest.mark.parametrize("seed", range(40))
def test_random_bytes_split_like_text_mode(tmp_path, seed):
    rng = random.Random(seed)
    alphabet = [b"a", b"{", b'"', b"\n", b"\r", b"\r\n", "中".encode(), b"\xe4", b"\xb8", b"\xff", b"\xc3", b"\x00"]
    data = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3000)))
    path = tmp_path / "x.ndjson"
    path.write_bytes(data)
    for block_bytes in (1, 5, 13, 100, 4096):
        for batch_rows in (1, 4, 50_000):
            assert new_batches(path, batch_rows, block_bytes) == old_batches(path, batch_rows), (block_bytes, batch_rows)


def test_cr_at_the_end_of_a_block_waits_for_the_next_byte():
    # split_lines is only handed blocks that end with a complete ending; ndjson_lines keeps a final \r back
    assert split_lines(b"a\r").to_pylist() == ["a"]
    assert split_lines(b"a\r\nb\r\n").to_pylist() == ["a", "b"]
    assert split_lines(b"").to_pylist() == []


def test_batches_are_bounded_by_bytes_too(tmp_path):
    path = tmp_path / "x.ndjson"
    path.write_bytes(b"".join(b"%d %s\n" % (i, b"x" * 1000) for i in range(100)))
    batches = list(ndjson_lines(path, batch_rows=1000, block_bytes=4096, batch_bytes=10_000))
    # a batch closes once its text passes batch_bytes, so it holds at most one block more
    assert len(batches) > 5 and all(sum(len(x) for x in b.to_pylist()) <= 10_000 + 4096 for b in batches[:-1])
    assert [line for b in batches for line in b.to_pylist()] == [line for b in old_batches(path, 1000) for line in b]


def test_batch_rows_must_be_positive(tmp_path):
    path = tmp_path / "x.ndjson"
    path.write_bytes(b"a\n")
    with pytest.raises(ValueError, match="batch_rows"):
        list(ndjson_lines(path, 0))


def old_fhir_bulk(path, batch_rows: int, resource_type: str) -> pa.Table:
    tables = []
    first = 1
    for lines in old_batches(path, batch_rows):
        resources = pa.array(lines, pa.string())
        table = pa.table({"resource": resources, REJECT: fhir_check(resources, resource_type)})
        tables.append(with_source_rows(table, path.name, first))
        first += len(lines)
    return pa.concat_tables(tables)


@pytest.mark.parametrize("batch_rows", [1, 3, 50_000])
def test_fhir_bulk_table_equals_the_old_one(tmp_path, batch_rows):
    path = tmp_path / "Patient.ndjson"
    lines = [PATIENT, "", "not json", '{"resourceType":"Encounter"}', "[1,2]", PATIENT + " ", '{"id":"x"}']
    path.write_bytes(("\r\n".join(lines) + "\n").encode() + b'{"resourceType":"Patient","id":"\xff"}')
    conn = FhirBulk(source_id="health_patient",
                    options={"path": str(path), "resource_type": "Patient", "batch_rows": batch_rows})
    new = pa.concat_tables(conn.read(NIGHT, NEXT))
    assert new.to_pylist() == old_fhir_bulk(path, batch_rows, "Patient").to_pylist()
    assert new.column(REJECT).to_pylist() == [None, NOT_JSON, NOT_JSON, NOT_FHIR, NOT_FHIR, None, NOT_FHIR, None]
    assert new.column("_source_row").to_pylist()[-1] == "Patient.ndjson:8"
    assert "\ufffd" in new.column("resource")[7].as_py()
