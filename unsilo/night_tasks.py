"""The three steps of ``unsilo.night`` as Airflow runs them, one task each, by source id: each returns the
JSON-able handoff (paths and counts) that Airflow passes on in XCom; ``load_task`` returns the ledger entry."""

from __future__ import annotations

from unsilo.catalog import source as catalog_source
from unsilo.interval import Interval
from unsilo.night import extract_step, load_step, transform_step
from unsilo.settings import Settings


def extract_task(source_id: str, interval: Interval, settings: Settings) -> dict:
    return extract_step(catalog_source(source_id, settings), interval, settings)


def transform_task(handoff: dict, settings: Settings) -> dict:
    return transform_step(catalog_source(handoff["source"], settings), handoff, settings)


def load_task(handoff: dict, settings: Settings) -> dict:
    return load_step(catalog_source(handoff["source"], settings), handoff, settings).as_dict()
