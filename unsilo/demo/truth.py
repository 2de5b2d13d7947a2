"""The truth of a generation: what every source holds and which of its rows carry which defect."""

from __future__ import annotations

import json
import pathlib
from collections import Counter
from typing import Any

from unsilo.demo import clock, places
from unsilo.demo.population import Population

SOURCES = (
    "health_patient", "health_encounter", "health_immunization", "health_observation",
    "employment_registration", "employment_unemployment",
    "housing_communities", "housing_units", "housing_addresses", "housing_households",
    "housing_tenancies", "housing_subsidies",
    "transport_stops", "transport_routes", "transport_ridership",
)


def truth(
    seed: int,
    people: int,
    population: Population,
    sources: dict[str, dict[str, Any]],
    open_claims: Counter[str],
    subsidised: Counter[str],
    departments: pathlib.Path,
    nights: list[str] | None = None,
) -> dict[str, Any]:
    """Assemble the truth, write it to ``departments/truth.json`` and return it. ``nights``: every night delivered
    when there are several (the truth of rows and defects is night 1's)."""
    missing = set(SOURCES) - set(sources)
    if missing:
        raise ValueError(f"no truth for {sorted(missing)}")
    residents = Counter(person.community.code for person in population.persons)
    households = Counter(household.unit.community.code for household in population.households)
    document = {
        "night": clock.NIGHT.isoformat(),
        "seed": seed,
        "people": people,
        "sources": {source: {"rows": sources[source]["rows"], "defects": sources[source]["defects"]}
                    for source in SOURCES},
        "population": {
            "communities": {
                community.code: {
                    "residents": residents[community.code],
                    "households": households[community.code],
                    "open_unemployment_claims": open_claims[community.code],
                    "subsidised_households": subsidised[community.code],
                } for community in places.COMMUNITIES
            },
            "persons": len(population.persons),
            "households": len(population.households),
        },
    }
    if nights:
        document["nights"] = nights
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    (departments / "truth.json").write_bytes(text.encode("utf-8"))
    return document
