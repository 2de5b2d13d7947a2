"""gtfs on Google's sample feed (zip and folder forms, ../shared/data/real) and on the generated demo feed."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from connectors import Gtfs, SourceError
from tests.connectors.conftest import read_batches, read_table


def feed(path: Path, name: str, source_id: str = "transport_stops", **extra) -> Gtfs:
    return Gtfs(source_id=source_id, options={"path": str(path), "file": name, **extra})


def csv_records(text: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text, newline="")) if r]


@pytest.fixture()
def sample(real):
    return real / "transport" / "google-sample-feed-1.zip", real / "transport" / "google-sample-feed-1"


def test_stops_row_count_matches_csv_module(sample):
    archive, folder = sample
    header, *records = csv_records((folder / "stops.txt").read_text(encoding="utf-8-sig"))
    with zipfile.ZipFile(archive) as z:
        zheader, *zrecords = csv_records(z.read("stops.txt").decode("utf-8-sig"))
    for path, want in ((folder, records), (archive, zrecords)):
        table = read_table(feed(path, "stops.txt"))
        assert table.num_rows == len(want) == 9
        assert table.column_names == header + ["_reject", "_raw", "_source_row"]
        assert table.column("stop_id").to_pylist() == [r[0] for r in want]
        assert table.column("_source_row").to_pylist() == [f"stops.txt:{n}" for n in range(2, 11)]


def test_zip_and_folder_give_identical_stops(sample):
    archive, folder = sample
    from_zip = read_table(feed(archive, "stops.txt"))
    from_folder = read_table(feed(folder, "stops.txt"))
    assert from_zip.to_pylist() == from_folder.to_pylist()
    assert "Stagecoach Hotel & Casino (Demo)" in from_zip.column("stop_name").to_pylist()
    assert not any("\r" in v for v in from_zip.column("stop_url").to_pylist())  # the zip member is CRLF


def test_every_column_is_text(sample):
    _, folder = sample
    table = read_table(feed(folder, "stops.txt"))
    assert all(str(t) == "string" for t in table.schema.types)
    assert table.column("stop_lat").to_pylist()[0] == "36.425288"  # text as received, not a float


def test_stop_times_in_the_zip_leave_trailing_fields_out(sample):
    # the zip's stop_times.txt writes 5 fields under a 9-column header on most lines
    archive, _ = sample
    with zipfile.ZipFile(archive) as z:
        header, *records = csv_records(z.read("stop_times.txt").decode("utf-8-sig"))
    assert {len(r) for r in records} != {len(header)}
    table = read_table(feed(archive, "stop_times.txt"))
    assert table.num_rows == len(records)
    assert [[r[h] for h in header] for r in table.to_pylist()] == [r + [""] * (len(header) - len(r)) for r in records]


def test_header_only_file_gives_no_rows(sample):
    archive, folder = sample
    assert b"\n" not in (folder / "shapes.txt").read_bytes()  # header only, no line break
    for path in (archive, folder):
        assert read_table(feed(path, "shapes.txt", "transport_shapes")).num_rows == 0


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_missing_file_names_the_feed(sample, form):
    path = sample[0] if form == "zip" else sample[1]
    with pytest.raises(SourceError) as err:
        read_batches(feed(path, "nonexistent.txt"))
    message = str(err.value)
    assert "transport_stops" in message and str(path) in message and "nonexistent.txt" in message


def test_non_zip_file_is_a_source_error(sample):
    _, folder = sample
    not_a_zip = folder / "stops.txt"
    with pytest.raises(SourceError, match="not a zip") as err:
        read_batches(feed(not_a_zip, "stops.txt"))
    assert str(not_a_zip) in str(err.value)


def test_missing_feed_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="not found") as err:
        read_batches(feed(tmp_path / "gtfs.zip", "stops.txt"))
    assert str(tmp_path / "gtfs.zip") in str(err.value)


def test_long_row_is_rejected_not_fatal(tmp_path):
    (tmp_path / "stops.txt").write_text("stop_id,stop_name\nA,Alpha\nB,Beta,extra\n", encoding="utf-8")
    table = read_table(feed(tmp_path, "stops.txt", validate=False))  # one file, not a whole feed
    assert table.column("_reject").to_pylist() == [None, "ragged-row"]
    assert table.column("_raw").to_pylist() == [None, "B,Beta,extra"]
    assert table.column("_source_row").to_pylist() == ["stops.txt:2", "stops.txt:3"]


def test_demo_feed_matches_truth(demo):
    departments, truth = demo
    archive = departments / "transport" / "gtfs.zip"
    stops = read_table(feed(archive, "stops.txt"))
    routes = read_table(feed(archive, "routes.txt", "transport_routes"))
    assert stops.num_rows == truth["sources"]["transport_stops"]["rows"] > 0
    assert routes.num_rows == truth["sources"]["transport_routes"]["rows"] > 0
    assert set(truth["sources"]["transport_stops"]["defects"]["required-missing"]) <= set(
        r["_source_row"] for r in stops.to_pylist() if r["stop_name"] == ""
    )
