"""The district's residents: households of 1-5 persons living in housing units in grid cells.

Every person has a unique, valid GB 11643 resident ID, a Chinese name, sex, a birth date between
1935 and 2025 (age 0-90 on the night), a marital status and a home address in a grid cell.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from unsilo.demo import clock, names, places, resident_id

# Real address codes (GB/T 2260) of people born outside the district.
BORN_ELSEWHERE = (
    "330102", "330105", "330108", "330110", "330382", "330482", "330522", "330681",
    "110105", "310104", "320102", "320583", "340104", "360102", "410105", "420106",
    "430104", "440106", "510107", "610113", "370102", "350203",
)


@dataclass(eq=False)
class Unit:
    address: str
    community: places.Community
    grid: str
    household: Household | None = None
    index: int = 0

    @property
    def unit_id(self) -> str:
        return f"U{self.index:06d}"


@dataclass(eq=False)
class Person:
    index: int
    id_number: str
    family: str
    given: str
    sex: str  # "male" / "female"
    birth: datetime.date
    marital: str  # v3 MaritalStatus: S M W D UNK
    household: Household

    @property
    def patient_id(self) -> str:
        return f"p-{self.index:06d}"

    @property
    def name(self) -> str:
        return self.family + self.given

    @property
    def age(self) -> int:
        return clock.age_on(self.birth)

    @property
    def unit(self) -> Unit:
        return self.household.unit

    @property
    def community(self) -> places.Community:
        return self.household.unit.community

    @property
    def grid(self) -> str:
        return self.household.unit.grid

    @property
    def address(self) -> str:
        return self.household.unit.address


@dataclass(eq=False)
class Household:
    index: int
    unit: Unit
    registered_on: datetime.date = clock.NIGHT
    members: list[Person] = field(default_factory=list)

    @property
    def household_id(self) -> str:
        return f"H{self.index:06d}"

    @property
    def head(self) -> Person:
        return self.members[0]


@dataclass
class Population:
    persons: list[Person]
    households: list[Household]
    units: list[Unit]

    def adults(self, low: int = 18, high: int = 65) -> list[Person]:
        return [person for person in self.persons if low <= person.age <= high]


# A member plan: (age, male, marital, role) where role is head/spouse/child/parent.
Plan = tuple[int, bool, str, str]


def _single_marital(rng: random.Random, age: int) -> str:
    if age < 18:
        return "S"
    if rng.random() < 0.03:
        return "UNK"
    if age < 28:
        return rng.choices("SD", weights=(92, 8))[0]
    if age < 45:
        return rng.choices("SDW", weights=(55, 40, 5))[0]
    if age < 65:
        return rng.choices("SDW", weights=(20, 45, 35))[0]
    return rng.choices("SDW", weights=(8, 17, 75))[0]


def _child_ages(rng: random.Random, parent_age: int, count: int) -> list[int]:
    oldest = max(0, min(parent_age - 22, 28))
    return sorted((rng.randint(0, oldest) for _ in range(count)), reverse=True)


def _plan(rng: random.Random, size: int) -> list[Plan]:
    if size == 1:
        age = rng.randint(20, 90)
        return [(age, rng.random() < 0.5, _single_marital(rng, age), "head")]
    roll = rng.random()
    if size == 2 and roll >= 0.55:
        if roll < 0.8:  # a single parent and a child
            parent = rng.randint(26, 58)
            child = _child_ages(rng, parent, 1)[0]
            return [(parent, rng.random() < 0.3, _single_marital(rng, max(parent, 30)), "head"),
                    (child, rng.random() < 0.5, _single_marital(rng, min(child, 24)), "child")]
        head = rng.randint(45, 64)  # an adult child living with a widowed parent
        parent = min(90, head + rng.randint(22, 32))
        return [(head, rng.random() < 0.5, _single_marital(rng, head), "head"),
                (parent, rng.random() < 0.35, "W", "parent")]
    if size == 2:
        head = rng.randint(24, 88)
    else:
        head = rng.choices((rng.randint(26, 40), rng.randint(41, 60)), weights=(4, 6))[0]
    spouse = max(20, min(90, head + rng.randint(-5, 3)))
    male_head = rng.random() < 0.85
    plan: list[Plan] = [(head, male_head, "M", "head"), (spouse, not male_head, "M", "spouse")]
    children = size - 2
    if size >= 4 and rng.random() < 0.35 and head <= 62:
        plan.append((min(90, head + rng.randint(24, 32)), rng.random() < 0.35, "W", "parent"))
        children -= 1
    for age in _child_ages(rng, min(head, spouse), children):
        plan.append((age, rng.random() < 0.5, _single_marital(rng, min(age, 24)), "child"))
    return plan


def _birth(rng: random.Random, age: int) -> datetime.date:
    latest = min(clock.years_before(clock.NIGHT, age), clock.YOUNGEST_BIRTH)
    earliest = max(clock.years_before(clock.NIGHT, age + 1) + datetime.timedelta(days=1), clock.OLDEST_BIRTH)
    return clock.day_between(rng, earliest, latest)


class _Registry:
    """Hands out unique resident IDs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def issue(self, birth: datetime.date, male: bool, local: bool) -> str:
        while True:
            code = places.DISTRICT_CODE if local else self.rng.choice(BORN_ELSEWHERE)
            sequence = self.rng.randrange(1 if male else 2, 1000, 2)
            number = resident_id.compose(code, birth, sequence)
            if number[:17] not in self.used:
                self.used.add(number[:17])
                return number


def _unit(rng: random.Random, taken: set[str]) -> Unit:
    community = rng.choices(places.COMMUNITIES, weights=[2 + len(c.grids) for c in places.COMMUNITIES])[0]
    while True:
        floor = rng.randint(1, 18)
        text = places.address(rng.choice(community.roads), rng.randint(1, 320), rng.randint(1, 12),
                              rng.randint(1, 4), floor * 100 + rng.randint(1, 4))
        if text not in taken:
            taken.add(text)
            return Unit(address=text, community=community, grid=rng.choice(community.grids))


def population(rng: random.Random, people: int) -> Population:
    """``people`` persons in households of 1-5, each household in its own unit, plus ~5 % vacant units."""
    if people < 1:
        raise ValueError("people must be at least 1")
    registry = _Registry(rng)
    taken: set[str] = set()
    persons: list[Person] = []
    households: list[Household] = []
    while len(persons) < people:
        size = min(rng.choices((1, 2, 3, 4, 5), weights=(20, 30, 26, 16, 8))[0], people - len(persons))
        household = Household(index=len(households) + 1, unit=_unit(rng, taken))
        household.unit.household = household
        households.append(household)
        plan = _plan(rng, size)
        head_family = names.family_name(rng)
        father_family = head_family
        for age, male, marital, role in plan:
            if role == "head" or (role == "parent" and male):
                family = head_family
            elif role == "child":
                family = father_family if rng.random() < 0.92 else names.family_name(rng)
            else:
                family = names.family_name(rng)
            if role == "spouse" and male:
                father_family = family
            birth = _birth(rng, age)
            local = rng.random() < (0.9 if age < 10 else 0.6)
            person = Person(
                index=len(persons) + 1,
                id_number=registry.issue(birth, male, local),
                family=family,
                given=names.given_name(rng, male),
                sex="male" if male else "female",
                birth=birth,
                marital=marital,
                household=household,
            )
            persons.append(person)
            household.members.append(person)
        head = household.head
        household.registered_on = clock.day_between(
            rng, max(clock.years_after(head.birth, 18), datetime.date(1990, 1, 1)), clock.NIGHT)
    units = [household.unit for household in households]
    units += [_unit(rng, taken) for _ in range(max(1, round(len(households) * 0.05)))]
    units.sort(key=lambda unit: (unit.community.code, unit.grid, unit.address))
    for number, unit in enumerate(units, start=1):
        unit.index = number
    return Population(persons=persons, households=households, units=units)
