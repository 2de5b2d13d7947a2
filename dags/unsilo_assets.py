"""The Airflow Assets unsilo's DAGs produce and consume: one per warehouse entity table, ``unsilo://std/<entity>``."""

from __future__ import annotations

from airflow.sdk import Asset


def entity_asset(entity: str) -> Asset:
    return Asset(name=f"std.{entity}", uri=f"unsilo://std/{entity}", group="unsilo")
