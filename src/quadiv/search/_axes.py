"""Descriptor axes: categorical (a label per cell) or numeric (bins between increasing ticks).

QDAIF (Bradley et al. 2023, arXiv 2310.13032, sec. 4) bins a judge probability with 20 non-uniform
bins, dense near 0 and 1, because judge probabilities saturate; :data:`QDAIF_TICKS` are those ticks
(GENERATION.md sec. 7.1 lists 0.005, 0.01, ..., 0.5, ..., 0.99, 0.995 and the verified binning
0.001 -> 0, 0.3 -> 9, 0.97 -> 15, 0.999 -> 19; the ticks between are our symmetric reading, not
verified against the paper's config).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quadiv.errors import UsageError

QDAIF_TICKS = (0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 0.8, 0.9, 0.925, 0.95, 0.97, 0.98,
               0.985, 0.99, 0.995, 1.0)


@dataclass(frozen=True)
class Axis:
    """One descriptor axis: ``categories`` (labels) or ``ticks`` (bin edges, increasing; len = bins + 1).

    A numeric value below the first tick falls in the first bin and one above the last in the last bin
    (as pyribs' GridArchive clips); a category not in ``categories`` has no cell.
    """

    name: str
    categories: tuple[str, ...] | None = None
    ticks: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if (self.categories is None) == (self.ticks is None):
            raise UsageError(f"axis '{self.name}' needs either categories or ticks (or bins and a range)")
        if self.categories is not None:
            object.__setattr__(self, "categories", tuple(str(c) for c in self.categories))
            if not self.categories:
                raise UsageError(f"axis '{self.name}' has no categories: list at least one")
            if len(set(self.categories)) != len(self.categories):
                raise UsageError(f"axis '{self.name}' lists a category twice")
        else:
            ticks = tuple(float(t) for t in self.ticks)
            object.__setattr__(self, "ticks", ticks)
            if len(ticks) < 2 or not all(math.isfinite(t) for t in ticks) or any(b <= a for a, b in
                                                                                itertools.pairwise(ticks)):
                raise UsageError(f"axis '{self.name}' needs at least two finite, strictly increasing ticks; "
                                 f"got {list(ticks)}")

    @classmethod
    def numeric(cls, name: str, bins: int = 10, low: float = 0.0, high: float = 1.0) -> Axis:
        """``bins`` equal bins over [low, high]."""
        if bins < 1 or not high > low:
            raise UsageError(f"axis '{name}' needs bins >= 1 and a range low < high; got {bins}, [{low}, {high}]")
        return cls(name, ticks=tuple(np.linspace(low, high, bins + 1).tolist()))

    @property
    def categorical(self) -> bool:
        return self.categories is not None

    @property
    def size(self) -> int:
        return len(self.categories) if self.categorical else len(self.ticks) - 1

    @property
    def labels(self) -> list[str]:
        """One label per cell: the category, or the bin's range."""
        if self.categorical:
            return list(self.categories)
        return [f"{_short(a)}-{_short(b)}" for a, b in zip(self.ticks, self.ticks[1:])]

    def index(self, value: object) -> int | None:
        """The cell of ``value`` on this axis; None for an unknown category or a NaN."""
        if self.categorical:
            text = str(value)
            return self.categories.index(text) if text in self.categories else None
        number = float(value)
        if math.isnan(number):
            return None
        return int(np.clip(np.searchsorted(self.ticks, number, side="right") - 1, 0, self.size - 1))

    def remap(self, value: float) -> float:
        """``value`` mapped monotonically, piecewise linearly, onto [0, size]: bin k becomes [k, k + 1).

        A uniform grid over [0, size] (pyribs' GridArchive) then has exactly this axis' bins.
        """
        ticks = np.asarray(self.ticks)
        return float(np.interp(float(value), ticks, np.arange(len(ticks), dtype=float)))


def _short(value: float) -> str:
    return f"{value:g}"


def check_axes(axes: Sequence[Axis]) -> tuple[Axis, ...]:
    axes = tuple(axes)
    if not axes:
        raise UsageError("an archive with cells needs at least one axis")
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise UsageError(f"axis names must differ; got {names}")
    return axes


def cell_of(axes: Sequence[Axis], descriptors: Sequence[object]) -> tuple[int, ...] | None:
    """The cell (one index per axis) of ``descriptors``; None when a value has no cell."""
    if len(descriptors) != len(axes):
        raise UsageError(f"descriptors need one value per axis ({len(axes)}: "
                         f"{', '.join(a.name for a in axes)}); got {len(descriptors)}")
    cell = tuple(axis.index(value) for axis, value in zip(axes, descriptors))
    return None if any(i is None for i in cell) else cell
