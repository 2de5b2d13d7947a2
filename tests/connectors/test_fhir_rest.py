"""fhir_rest against a small FHIR search server on 127.0.0.1 that this test starts (stdlib http.server), serving
the resources inside the real FHIR R4 examples and Synthea bundles in ../shared/data/real/health."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import duckdb
import pytest
import yaml

from connectors import FhirRest, SourceError
from tests.connectors.conftest import NEXT, NIGHT, read_table
from tests.night_fixture import KEY

INSIDE = "2026-06-01T09:30:00Z"  # inside the night [2026-06-01, 2026-06-02)
BEFORE = "2026-05-20T09:30:00Z"  # an earlier night


def served_resources(real) -> list[dict]:
    """Every resource inside the real examples (Bundles unpacked; the one file that is not JSON left out), one per
    Type/id, with meta.lastUpdated alternately inside and before the night, in a fixed order."""
    found: dict[tuple[str, str], dict] = {}
    for path in sorted((real / "health" / "hl7-r4-examples").glob("*.json")) + \
            sorted((real / "health" / "synthea-r4").glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        inner = [e.get("resource") for e in doc.get("entry") or []] if doc["resourceType"] == "Bundle" else [doc]
        for n, r in enumerate(x for x in inner if isinstance(x, dict)):
            r = dict(r, id=r.get("id") or f"{path.stem}-{n}")
            found.setdefault((r["resourceType"], r["id"]), r)
    out = []
    for i, key in enumerate(sorted(found)):
        r = found[key]
        out.append(dict(r, meta={**(r.get("meta") or {}), "lastUpdated": INSIDE if i % 2 == 0 else BEFORE}))
    return out


def _instant(value: str) -> dt.datetime:
    if len(value) == 10:
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class FhirServer:
    """A FHIR search endpoint ``GET /<Type>?_count&_lastUpdated=geX&_lastUpdated=ltY[&_offset]`` answering
    searchset Bundles with link self/next, one ``include`` entry and one informational ``outcome`` per page.
    ``failures``: statuses to answer (in order) before the real answers; ``always``: a status answered forever."""

    def __init__(self, resources: list[dict], failures: list[int] = (), always: int | None = None):
        self.resources, self.failures, self.always = resources, list(failures), always
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                return None

            def do_GET(self):
                server.requests.append(self.path)
                status = server.always or (server.failures.pop(0) if server.failures else None)
                if status:
                    self.send_response(status)
                    if status == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                body = json.dumps(server.page(self.path)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def matches(self, rtype: str, params: list[tuple[str, str]]) -> list[dict]:
        out = [r for r in self.resources if r["resourceType"] == rtype]
        for name, value in params:
            if name == "_lastUpdated":
                op, when = value[:2], _instant(value[2:])
                keep = {"ge": lambda t: t >= when, "lt": lambda t: t < when}[op]
                out = [r for r in out if keep(_instant(r["meta"]["lastUpdated"]))]
        return sorted(out, key=lambda r: r["id"])

    def page(self, path: str) -> dict:
        parts = urlsplit(path)
        rtype = parts.path.rsplit("/", 1)[-1]
        params = parse_qsl(parts.query)
        count = int(dict(params)["_count"])
        offset = int(dict(params).get("_offset", 0))
        found = self.matches(rtype, params)
        keep = [(k, v) for k, v in params if k != "_offset"]
        links = [{"relation": "self", "url": self.base + f"/{rtype}?{parts.query}"}]
        if offset + count < len(found):
            links.append({"relation": "next", "url": self.base + f"/{rtype}?" + urlencode(keep + [("_offset", offset + count)])})
        patient = next(r for r in self.resources if r["resourceType"] == "Patient")
        return {
            "resourceType": "Bundle", "type": "searchset", "total": len(found), "link": links,
            "entry": [{"fullUrl": f"{self.base}/{rtype}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                      for r in found[offset:offset + count]]
            + [{"resource": patient, "search": {"mode": "include"}},
               {"resource": {"resourceType": "OperationOutcome", "issue": [
                   {"severity": "information", "code": "informational", "diagnostics": "served by the test"}]},
                "search": {"mode": "outcome"}}],
        }

    def __enter__(self) -> FhirServer:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def resources(real) -> list[dict]:
    return served_resources(real)


def rest(base: str, resource_type: str, **extra) -> FhirRest:
    return FhirRest(source_id="health_rest", options={"base_url": base, "resource_type": resource_type,
                                                      "backoff": 0.01, "max_backoff": 0.05, **extra})


@pytest.mark.parametrize("resource_type", ["Observation", "Encounter", "Patient"])
def test_all_pages_give_the_resources_of_the_interval(resources, resource_type):
    want = sorted(r["id"] for r in resources if r["resourceType"] == resource_type and r["meta"]["lastUpdated"] == INSIDE)
    with FhirServer(resources) as server:
        table = read_table(rest(server.base, resource_type, count=7))
    got = [json.loads(t) for t in table.column("resource").to_pylist()]
    assert sorted(r["id"] for r in got) == want and len(want) >= 3
    assert {r["resourceType"] for r in got} == {resource_type}  # no includes, no OperationOutcome
    assert table.column("_reject").null_count == table.num_rows
    assert table.column("_source_row").to_pylist() == [f"{resource_type}/{r['id']}" for r in got]
    pages = -(-len(want) // 7)
    assert len(server.requests) == pages
    assert all("_count=7" in p and "_lastUpdated=ge2026-06-01" in p and "_lastUpdated=lt2026-06-02" in p
               for p in server.requests)


def test_count_paging_follows_next_until_none(resources):
    with FhirServer(resources) as server:
        small = read_table(rest(server.base, "Observation", count=5))
        one = len(server.requests)
        big = read_table(rest(server.base, "Observation", count=1000))
    n = sum(r["resourceType"] == "Observation" and r["meta"]["lastUpdated"] == INSIDE for r in resources)
    assert small.num_rows == big.num_rows == n > 10
    assert one == -(-n // 5) >= 3 and len(server.requests) == one + 1
    assert small.column("resource").to_pylist() == big.column("resource").to_pylist()


def test_429_and_503_are_retried_then_read(resources):
    with FhirServer(resources, failures=[429, 503, 503]) as server:
        table = read_table(rest(server.base, "Encounter", retries=3))
    assert len(server.requests) == 3 + 1
    assert table.num_rows == sum(r["resourceType"] == "Encounter" and r["meta"]["lastUpdated"] == INSIDE
                                 for r in resources)


def test_retry_after_is_honoured_over_the_backoff(resources):
    with FhirServer(resources, failures=[429]) as server:
        began = time.monotonic()
        table = read_table(rest(server.base, "Patient", backoff=30, max_backoff=60))
    assert time.monotonic() - began < 10  # Retry-After: 0, not the 30 s backoff
    assert len(server.requests) == 2 and table.num_rows > 0


def test_a_server_that_always_fails_gives_source_error_naming_the_url(resources):
    with FhirServer(resources, always=500) as server:
        with pytest.raises(SourceError) as err:
            read_table(rest(server.base, "Encounter", retries=2))
    message = str(err.value)
    assert len(server.requests) == 3
    assert "health_rest" in message and f"{server.base}/Encounter?_count=100" in message and "HTTP 500" in message
    assert "3 tries" in message


def test_another_4xx_is_not_retried(resources):
    with FhirServer(resources, always=404) as server:
        with pytest.raises(SourceError, match="HTTP 404"):
            read_table(rest(server.base, "Encounter", retries=4))
    assert len(server.requests) == 1


def test_an_error_outcome_stops_the_source(resources):
    class Failing(FhirServer):
        def page(self, path):
            doc = super().page(path)
            doc["entry"][-1]["resource"]["issue"][0].update(severity="error", diagnostics="too costly")
            return doc

    with Failing(resources) as server:
        with pytest.raises(SourceError, match="too costly"):
            read_table(rest(server.base, "Encounter"))


def test_unreachable_port_gives_source_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceError) as err:
        read_table(rest(f"http://127.0.0.1:{port}/fhir", "Patient", retries=1, timeout=2))
    assert f"127.0.0.1:{port}/fhir/Patient" in str(err.value) and "ConnectError" in str(err.value)


def test_timezone_sends_instants(resources):
    with FhirServer(resources) as server:
        read_table(rest(server.base, "Patient", timezone="Asia/Shanghai"))
    assert "_lastUpdated=ge2026-06-01T00%3A00%3A00%2B08%3A00" in server.requests[0]


def test_night_through_run_source_quarantines_synthea_encounters(resources, tmp_path, monkeypatch):
    """Synthea's Encounters carry no Chinese resident ID: every row is quarantined, none lost."""
    from unsilo.catalog import load_source
    from unsilo.interval import Interval
    from unsilo.night import run_source
    from unsilo.settings import settings

    monkeypatch.setenv("UNSILO_HOME", str(tmp_path))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    with FhirServer(resources) as server:
        doc = {"id": "health_encounter_rest", "department": "health", "entity": "health_encounter",
               "codelist_system": "fhir",
               "connector": {"kind": "fhir_rest", "base_url": server.base, "resource_type": "Encounter", "count": 3},
               "fields": {"encounter_id": {"json": "$.id"},
                          "person_key": {"json": "$.subject.identifier.value", "pseudonymize": "person"},
                          "class_code": {"json": "$.class.code"}, "started_at": {"json": "$.period.start"},
                          "ended_at": {"json": "$.period.end"}, "provider_name": {"json": "$.serviceProvider.display"}}}
        path = tmp_path / "health_encounter_rest.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        cfg = settings()
        entry = run_source(load_source(path, cfg), Interval(NIGHT, NEXT), cfg)
    want = sum(r["resourceType"] == "Encounter" and r["meta"]["lastUpdated"] == INSIDE for r in resources)
    assert entry.status == "success" and entry.extracted == want
    assert entry.extracted == entry.loaded + entry.quarantined + entry.unchanged
    with duckdb.connect(str(tmp_path / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        rows = dict(con.execute("SELECT source_row, list_sort(rules) FROM meta.quarantine").fetchall())
    assert entry.quarantined == len(rows) == want
    assert set(rows) == {f"Encounter/{r['id']}" for r in resources
                         if r["resourceType"] == "Encounter" and r["meta"]["lastUpdated"] == INSIDE}
    assert {tuple(v) for v in rows.values()} == {("required-missing",)}
