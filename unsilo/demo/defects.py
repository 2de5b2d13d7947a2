"""Seeding the defects listed in docs/quality.md into a department's records.

A :class:`Seeding` is made per source over its clean records (indexed 0..n-1 in export order). Each
rule picks about 1-2 % of the records (at least one) at random among those still clean, so a record
carries at most one defect. A duplicate is a verbatim copy of a clean record placed later in the
file; the copy is the defect and the original stays clean.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

LOW_RATE, HIGH_RATE = 0.01, 0.02


def how_many(rng: random.Random, rows: int) -> int:
    """About 1-2 % of ``rows``, at least one."""
    return max(1, round(rows * rng.uniform(LOW_RATE, HIGH_RATE)))


class Seeding:
    """Which records of one source carry which defect."""

    def __init__(self, rng: random.Random, count: int) -> None:
        self.rng = rng
        self.count = count
        self.clean: set[int] = set(range(count))
        self.chosen: dict[str, list[int]] = {}
        self.originals: list[int] = []

    def choose(self, rule: str, eligible: Callable[[int], bool] | None = None) -> list[int]:
        """Pick the records (indexes, ascending) that will break ``rule``."""
        pool = [index for index in sorted(self.clean) if eligible is None or eligible(index)]
        picked = sorted(self.rng.sample(pool, min(how_many(self.rng, self.count), len(pool))))
        self.clean.difference_update(picked)
        self.chosen.setdefault(rule, []).extend(picked)
        return picked

    def duplicate(self, eligible: Callable[[int], bool] | None = None) -> list[int]:
        """Pick clean records to be repeated later in the file; they stay clean themselves."""
        pool = [index for index in sorted(self.clean) if eligible is None or eligible(index)]
        picked = sorted(self.rng.sample(pool, min(how_many(self.rng, self.count), len(pool))))
        self.clean.difference_update(picked)
        self.originals.extend(picked)
        return picked

    def keys(self, label: Callable[[int], str]) -> dict[str, list[str]]:
        """The truth of a database table: ``rule -> ["<table>:<primary key>", ...]``."""
        return {rule: [label(index) for index in indexes] for rule, indexes in self.chosen.items() if indexes}

    def emit(self, lines: Sequence[Any], name: str, first_line: int) -> tuple[list[Any], dict[str, Any]]:
        """Put the duplicates in place and return the lines in file order with the source's truth.

        ``first_line`` is the physical line number of the first record (1 without a header, 2 with one).
        """
        if len(lines) != self.count:
            raise ValueError("one line per record")
        slots: dict[int, list[int]] = defaultdict(list)
        for original in self.originals:
            slots[self.rng.randint(original + 1, self.count)].append(original)
        order: list[tuple[int, bool]] = []
        for position in range(self.count + 1):
            order.extend((original, True) for original in sorted(slots.get(position, ())))
            if position < self.count:
                order.append((position, False))
        rule_of = {index: rule for rule, indexes in self.chosen.items() for index in indexes}
        found: dict[str, list[str]] = {rule: [] for rule in self.chosen}
        if self.originals:
            found["duplicate-key"] = []
        for number, (index, copy) in enumerate(order, start=first_line):
            rule = "duplicate-key" if copy else rule_of.get(index)
            if rule is not None:
                found[rule].append(f"{name}:{number}")
        truth = {"rows": len(order), "defects": {rule: rows for rule, rows in found.items() if rows}}
        return [lines[index] for index, _ in order], truth
