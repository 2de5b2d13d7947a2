"""FHIR R4 Bundles on disk (collection, searchset, transaction, batch, document, or a single resource per file):
one record per entry resource.

``urn:uuid:`` references between entries are rewritten to the ``Type/id`` of the entry they name, so a mapping
reads ``subject.reference`` the same way from a transaction Bundle as from a server; the column ``subject_id``
holds the resolved subject (or patient) of each resource, also where it points at a ``contained`` resource
(``#id``). Primitive extensions (``_birthDate``) are kept in the JSON and never get in the way. A file that is not
JSON or not FHIR is one rejected row (``not-json``/``not-fhir``), one nested too deep to parse is one
``unparseable-file`` row (its text cut to 1 KB in quarantine), and the other files go on.

Options: ``path`` (a file, a folder, or a glob; may contain ``{date:%Y-%m-%d}``), ``resource_type`` (keep only
entries of this type; all when absent).
"""

from __future__ import annotations

import datetime as dt
import glob
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from connectors.base import SOURCE_ROW, Connector, Option, SourceError, days
from standards.rejects import NOT_FHIR, NOT_JSON, RAW, REJECT, UNPARSEABLE_FILE, truncated

COLUMNS = ("resource", "resource_type", "resource_id", "full_url", "subject_id", "bundle_type")
SUBJECT_FIELDS = ("subject", "patient", "beneficiary", "individual")


def _rewrite(node, urls: dict[str, str]):
    """Replace every ``reference`` naming an entry by ``fullUrl`` with that entry's ``Type/id``."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "reference" and isinstance(v, str) and v in urls:
                out[k] = urls[v]
            else:
                out[k] = _rewrite(v, urls)
        return out
    if isinstance(node, list):
        return [_rewrite(v, urls) for v in node]
    return node


def _subject(resource: dict) -> str | None:
    for name in SUBJECT_FIELDS:
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            value = ref["reference"]
            if value.startswith("#"):
                for c in resource.get("contained") or []:
                    if isinstance(c, dict) and c.get("id") == value[1:]:
                        return f"{c.get('resourceType')}/{c.get('id')}"
                return None
            return value
    return None


def bundle_records(text: str, name: str, resource_type: str | None, notes: list[str]) -> list[dict]:
    """The rows of one file: one per entry resource (of ``resource_type``), or one rejected row. A file nested too
    deep for Python's JSON parser (RecursionError) is one ``unparseable-file`` row naming it, with a note; the
    source's other files go on."""
    try:
        return _records(text, name, resource_type, notes)
    except RecursionError:
        notes.append(f"{name}: JSON nested too deep to read; the file is rejected (unparseable-file), the other "
                     f"files go on: ask the sender for the file without the deep nesting")
        return [{REJECT: UNPARSEABLE_FILE, RAW: truncated(text), SOURCE_ROW: f"{name}:1"}]


def _records(text: str, name: str, resource_type: str | None, notes: list[str]) -> list[dict]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return [{REJECT: NOT_JSON, RAW: truncated(text),
                 SOURCE_ROW: f"{name}:{exc.lineno if hasattr(exc, 'lineno') else 1}"}]
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
        return [{REJECT: NOT_FHIR, RAW: truncated(text), SOURCE_ROW: f"{name}:1"}]
    if doc["resourceType"] == "Bundle":
        entries = [e for e in doc.get("entry") or [] if isinstance(e, dict)]
        bundle_type = doc.get("type")
    else:
        entries, bundle_type = [{"resource": doc}], None
    urls = {}
    for e in entries:
        r = e.get("resource")
        if isinstance(r, dict) and e.get("fullUrl") and r.get("resourceType"):
            rid = r.get("id") or e["fullUrl"].rsplit(":", 1)[-1].rsplit("/", 1)[-1]
            urls[e["fullUrl"]] = f"{r['resourceType']}/{rid}"
    rows, skipped = [], 0
    for i, e in enumerate(entries):
        r = e.get("resource")
        where = f"{name}:entry[{i}]" if bundle_type is not None else f"{name}:1"
        if r is None:
            skipped += 1  # a transaction's DELETE/GET entry carries a request, no resource
            continue
        if not isinstance(r, dict) or not isinstance(r.get("resourceType"), str):
            rows.append({REJECT: NOT_FHIR, RAW: json.dumps(r, ensure_ascii=False), SOURCE_ROW: where})
            continue
        if resource_type and r["resourceType"] != resource_type:
            continue
        r = _rewrite(r, urls)
        rows.append({
            "resource": json.dumps(r, ensure_ascii=False),
            "resource_type": r["resourceType"],
            "resource_id": r.get("id"),
            "full_url": e.get("fullUrl"),
            "subject_id": _subject(r),
            "bundle_type": bundle_type,
            SOURCE_ROW: where,
        })
    if skipped:
        notes.append(f"{name}: {skipped} entr{'y' if skipped == 1 else 'ies'} without a resource (requests) skipped")
    return rows


def table(rows: list[dict]) -> pa.Table:
    names = (*COLUMNS, REJECT, RAW, SOURCE_ROW)
    return pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names})


class FhirBundle(Connector):
    """Options: ``path`` (file, folder or glob, may contain ``{date:...}``), ``resource_type``."""

    kind = "fhir_bundle"
    OPTIONS = Connector.OPTIONS + (
        Option("path", ("string",), "a Bundle file, a folder of *.json, or a glob; may contain {date:...}",
               required=True, path="glob"),
        Option("resource_type", ("string",), "keep only entry resources of this type (default: all)"),
    )

    def files(self, start: dt.date, end: dt.date) -> list[Path]:
        pattern = self.option("path")
        patterns = sorted({pattern.format(date=d) for d in days(start, end)}) if "{date" in pattern else [pattern]
        out: list[Path] = []
        for p in patterns:
            path = Path(p)
            if path.is_dir():
                out.extend(sorted(x for x in path.iterdir() if x.suffix.lower() == ".json"))
            elif any(ch in p for ch in "*?["):
                out.extend(Path(x) for x in sorted(glob.glob(p)))
            elif path.exists():
                out.append(path)
            else:
                raise SourceError(
                    f"source {self.source_id}: FHIR Bundle file or folder {path} not found: the export for that night "
                    f"is missing; re-run the export or fix 'path' in the source YAML"
                )
        return out

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        self.notes: list[str] = []
        rows: list[dict] = []
        for path in self.files(start, end):
            text = path.read_bytes().decode("utf-8-sig", errors="replace")
            rows.extend(bundle_records(text, path.name, self.options.get("resource_type"), self.notes))
            if len(rows) >= self.batch_rows:
                yield table(rows)
                rows = []
        if rows:
            yield table(rows)
