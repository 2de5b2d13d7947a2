"""``unsilo demo``: a deterministic synthetic city district seen through four department systems.

:func:`generate` writes, under ``home/departments/``, what the health (FHIR Bulk Data), employment
(GB18030 CSV drop), housing (relational database) and transport (GTFS + smart-card ridership)
departments export on the demo night, with the defects of docs/quality.md seeded at known rows, and
``truth.json`` recording them. See docs/departments.md.
"""

from __future__ import annotations

import pathlib
import random
import shutil
from typing import Any

# Import the modules, not their same-named main functions, so ``unsilo.demo.housing`` stays the module
# (``unsilo.demo.housing.load_into``).
from unsilo.demo import employment, health, housing, nights as later, population, transport, truth
from unsilo.demo.clock import NIGHT

DEFAULT_PEOPLE = 2000
DEFAULT_SEED = 20260601

__all__ = ["DEFAULT_PEOPLE", "DEFAULT_SEED", "NIGHT", "generate"]


def _rng(seed: int, part: str) -> random.Random:
    """Each part draws from its own stream, so changing one department leaves the others as they were."""
    return random.Random(f"unsilo-demo:{seed}:{part}")


def generate(home: pathlib.Path, people: int = DEFAULT_PEOPLE, seed: int = DEFAULT_SEED,
             nights: int = 1) -> dict[str, Any]:
    """Generate the department systems under ``home / "departments"`` (replacing an earlier generation)
    and return the truth of night 1, also written to ``home/departments/truth.json``. ``nights`` > 1 adds the
    drops of the following nights (unsilo/demo/nights.py); the truth then lists them under ``nights``."""
    departments = pathlib.Path(home) / "departments"
    if departments.exists():
        shutil.rmtree(departments)
    departments.mkdir(parents=True)
    residents = population.population(_rng(seed, "population"), people)
    sources: dict[str, dict[str, Any]] = {}
    sources.update(health.health(_rng(seed, "health"), residents, departments))
    employment_truth, open_claims = employment.employment(_rng(seed, "employment"), residents, departments)
    sources.update(employment_truth)
    housing_truth, subsidised = housing.housing(_rng(seed, "housing"), residents, departments)
    sources.update(housing_truth)
    sources.update(transport.transport(_rng(seed, "transport"), residents, departments))
    if nights <= 1:
        return truth.truth(seed, people, residents, sources, open_claims, subsidised, departments)
    days = later.later_nights(departments, nights)
    return truth.truth(seed, people, residents, sources, open_claims, subsidised, departments,
                       nights=[d.isoformat() for d in days])
