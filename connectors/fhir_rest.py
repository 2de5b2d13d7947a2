"""A FHIR R4 server's search API for one resource type: ``GET [base]/[type]?_count=..&_lastUpdated=..``, page by
page through ``link[next]``, incremental by ``_lastUpdated`` over the night's interval ``[start, end)``.

Records have the shape of :mod:`connectors.fhir_bulk`: ``resource`` (the resource's JSON text), ``_reject``
(``not-fhir`` where an entry is not a resource of ``resource_type``) and ``_source_row``. ``_source_row`` is the
resource's ``Type/id`` (what the server calls it: stable across runs and page sizes, unlike a page number); an entry
without an id gets ``<Type>?page=<n>:entry[<i>]``.

Searchset entries that are not matches are not records: ``search.mode = include`` entries are skipped (noted), and
an ``outcome`` OperationOutcome with an issue of severity ``error``/``fatal`` stops the source with a
:class:`SourceError` carrying the server's diagnostics (warnings and information are noted only): a server that
says the search went wrong has not sent the whole interval, and loading part of it silently would lose rows.

HTTP 429, 5xx and connection errors are retried with exponential backoff (tenacity), honouring ``Retry-After``;
after ``retries`` retries, or at once for another 4xx, a :class:`SourceError` names the source, the URL and the
status. Options: ``base_url``, ``resource_type``, ``count`` (page size, default 100), ``timeout`` (seconds, 30),
``retries`` (5), ``backoff`` (first wait in seconds, 1), ``max_backoff`` (60), ``timezone`` (an IANA name: send the
interval as instants in that zone; plain dates when absent), ``headers`` (extra HTTP headers).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from collections.abc import Iterator
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import httpx
import pyarrow as pa
import tenacity

from connectors.base import SOURCE_ROW, Connector, Option, SourceError
from connectors.fhir_check import fhir_check
from standards.redact import scrub
from standards.rejects import REJECT

RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
FATAL_SEVERITIES = ("error", "fatal")


class _Retryable(Exception):
    """One failed try that may succeed later: 429/5xx (with the server's Retry-After) or a connection error."""

    def __init__(self, what: str, retry_after: float | None = None):
        super().__init__(what)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def _diagnostics(outcome: dict) -> str:
    issues = outcome.get("issue") or []
    return "; ".join(  # a server's diagnostics may quote the resource it refused: scrubbed
        f"{i.get('severity', '?')} {i.get('code', '?')}: "
        f"{scrub(i.get('diagnostics') or (i.get('details') or {}).get('text', ''))}"
        for i in issues if isinstance(i, dict)
    )


def _next_link(bundle: dict, url: str) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return urljoin(url, link["url"])
    return None


class FhirRest(Connector):
    """Options: ``base_url``, ``resource_type``, ``count``, ``timeout``, ``retries``, ``backoff``, ``max_backoff``,
    ``timezone``, ``headers`` (see the module docstring)."""

    kind = "fhir_rest"
    OPTIONS = Connector.OPTIONS + (
        Option("base_url", ("string",), "the server's FHIR base URL", required=True),
        Option("resource_type", ("string",), "the type searched: GET [base_url]/[resource_type]", required=True),
        Option("count", ("integer",), "page size, sent as _count", 100),
        Option("timeout", ("number",), "seconds for one HTTP request", 30),
        Option("retries", ("integer",), "retries after the first try on HTTP 429, 5xx and connection errors", 5),
        Option("backoff", ("number",), "first wait in seconds; doubles per retry", 1),
        Option("max_backoff", ("number",), "longest wait in seconds; also caps Retry-After", 60),
        Option("timezone", ("string",), "an IANA zone: send the interval bounds as instants in that zone"),
        Option("headers", ("object",), "extra HTTP headers (a mapping)"),
    )

    def bound(self, day: dt.date) -> str:
        zone = self.options.get("timezone")
        if not zone:
            return day.isoformat()
        return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).isoformat()

    def first_url(self, start: dt.date, end: dt.date) -> str:
        base = str(self.option("base_url")).rstrip("/")
        query = httpx.QueryParams([
            ("_count", str(int(self.options.get("count", 100)))),
            ("_lastUpdated", f"ge{self.bound(start)}"), ("_lastUpdated", f"lt{self.bound(end)}"),
        ])
        return f"{base}/{self.option('resource_type')}?{query}"

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        self.notes: list[str] = []
        resource_type = self.option("resource_type")
        url: str | None = self.first_url(start, end)
        seen: set[str] = set()
        headers = {"Accept": "application/fhir+json", **(self.options.get("headers") or {})}
        rows: list[tuple[str, str]] = []
        includes = 0
        page = 0
        with httpx.Client(timeout=float(self.options.get("timeout", 30)), headers=headers) as client:
            while url:
                if url in seen:
                    raise SourceError(f"source {self.source_id}: FHIR server's link[next] loops back to {url}; "
                                      f"the server's paging is broken, ask its administrators")
                seen.add(url)
                page += 1
                bundle = self.get(client, url)
                for i, entry in enumerate(bundle.get("entry") or []):
                    if not isinstance(entry, dict):
                        continue
                    mode = (entry.get("search") or {}).get("mode")
                    resource = entry.get("resource")
                    if mode == "include":
                        includes += 1
                        continue
                    if mode == "outcome" or (isinstance(resource, dict)
                                             and resource.get("resourceType") == "OperationOutcome"
                                             and resource_type != "OperationOutcome"):
                        self.outcome(resource or {}, url)
                        continue
                    rid = resource.get("id") if isinstance(resource, dict) else None
                    where = f"{resource['resourceType']}/{rid}" if rid and resource.get("resourceType") else \
                        f"{resource_type}?page={page}:entry[{i}]"
                    rows.append((json.dumps(resource, ensure_ascii=False), where))
                if len(rows) >= self.batch_rows:
                    yield self.table(rows, resource_type)
                    rows = []
                url = _next_link(bundle, url)
        if includes:
            self.notes.append(f"{includes} included (search.mode=include) entries skipped")
        if rows:
            yield self.table(rows, resource_type)

    def table(self, rows: list[tuple[str, str]], resource_type: str) -> pa.Table:
        resources = pa.array([r for r, _ in rows], pa.string())
        return pa.table({"resource": resources, REJECT: fhir_check(resources, resource_type),
                         SOURCE_ROW: pa.array([w for _, w in rows], pa.string())})

    def outcome(self, outcome: dict, url: str) -> None:
        severities = {i.get("severity") for i in outcome.get("issue") or [] if isinstance(i, dict)}
        if severities & set(FATAL_SEVERITIES):
            raise SourceError(f"source {self.source_id}: FHIR server reported an error for {url}: "
                              f"{_diagnostics(outcome)}; fix the search (resource_type, base_url) or the server")
        self.notes.append(f"{url}: {_diagnostics(outcome)}")

    def get(self, client: httpx.Client, url: str) -> dict:
        """One page as a Bundle, retried on 429/5xx/connection errors; a SourceError after the last try."""
        retries = int(self.options.get("retries", 5))
        backoff = float(self.options.get("backoff", 1))
        cap = float(self.options.get("max_backoff", 60))
        exponential = tenacity.wait_exponential(multiplier=backoff, max=cap)

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return min(exc.retry_after, cap)
            return exponential(state)

        def once() -> httpx.Response:
            try:
                response = client.get(url)
            except httpx.TransportError as exc:
                raise _Retryable(f"{type(exc).__name__}: {scrub(exc)}") from exc
            if response.status_code in RETRY_STATUSES:
                raise _Retryable(f"HTTP {response.status_code}", _retry_after(response.headers.get("Retry-After")))
            return response

        try:
            response = tenacity.Retrying(
                stop=tenacity.stop_after_attempt(retries + 1), wait=wait,
                retry=tenacity.retry_if_exception_type(_Retryable), reraise=True,
            )(once)
        except _Retryable as exc:
            raise SourceError(f"source {self.source_id}: FHIR server GET {url} failed after {retries + 1} tries: "
                              f"{exc}; check the server (base_url) or raise 'retries'") from None
        return self.bundle(response, url)

    def bundle(self, response: httpx.Response, url: str) -> dict:
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if response.status_code != 200:
            detail = _diagnostics(doc) if isinstance(doc, dict) and doc.get("resourceType") == "OperationOutcome" \
                else scrub(response.text[:200])
            raise SourceError(f"source {self.source_id}: FHIR server GET {url} answered HTTP {response.status_code}: "
                              f"{detail}; check base_url, resource_type and credentials")
        if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
            raise SourceError(f"source {self.source_id}: FHIR server GET {url} did not answer a Bundle "
                              f"({response.headers.get('content-type', 'no content-type')}); is base_url a FHIR "
                              f"server's base?")
        return doc
