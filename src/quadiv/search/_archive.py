"""The archive protocol: elites kept per cell, and the statistics every QD paper reports.

An archive maps descriptors to a cell and keeps elites there; :class:`ArchiveBase` holds what all
archives share (statistics, records, sampling), a subclass decides what one cell keeps. QD-score
(Pugh et al. 2016; pyribs' ``qd_score``) is the sum over occupied cells of the cell's best fitness
minus ``qd_score_offset``; coverage is occupied cells over all cells.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quadiv.search._axes import Axis


@dataclass
class Elite:
    """One evaluated text in the archive."""

    id: str
    text: str
    fitness: float
    descriptors: tuple
    cell: tuple | None = None
    parent: str | None = None
    iteration: int = 0
    extras: dict[str, Any] = field(default_factory=dict)


class ArchiveBase(ABC):
    """Shared behaviour: ``add`` (subclass), ``elites``, ``sample``, ``cells``, ``stats``, ``records``."""

    axes: tuple[Axis, ...] = ()
    num_cells: int | None = None
    qd_score_offset: float = 0.0
    holds_one: bool = True  # one elite per cell: a pairwise contest against the incumbent applies

    @abstractmethod
    def cell_of(self, descriptors: Sequence[object]) -> tuple | None:
        """The cell of these descriptor values; None where the archive has no fixed cells (proximity)."""

    @abstractmethod
    def add(self, elite: Elite, wins: bool | None = None) -> bool:
        """Insert ``elite`` if its cell takes it; ``wins`` (a contest's verdict) replaces by fitness."""

    @abstractmethod
    def cells(self) -> dict[tuple, list[Elite]]:
        """Occupied cells -> their elites, best first."""

    @abstractmethod
    def empty_like(self, axes: Sequence[Axis] | None = None) -> ArchiveBase:
        """An empty archive of the same kind (with new ``axes``, for re-binned descriptors)."""

    def elites(self) -> list[Elite]:
        return [e for members in self.cells().values() for e in members]

    def incumbent(self, cell: tuple) -> Elite | None:
        members = self.cells().get(cell)
        return members[0] if members else None

    def sample(self, n: int, rng: np.random.Generator) -> list[Elite]:
        """``n`` elites drawn uniformly with replacement (pyribs' ``sample_elites``); [] when empty."""
        elites = self.elites()
        if not elites:
            return []
        return [elites[i] for i in rng.integers(0, len(elites), n)]

    def stats(self) -> dict[str, float]:
        """qd_score, coverage (None without a fixed number of cells), num_elites, best, mean fitness."""
        cells = self.cells()
        best = [members[0].fitness for members in cells.values()]
        every = [e.fitness for members in cells.values() for e in members]
        return {"qd_score": float(sum(b - self.qd_score_offset for b in best)),
                "coverage": len(cells) / self.num_cells if self.num_cells else None,
                "num_elites": len(every), "best": max(every) if every else None,
                "mean": float(np.mean(every)) if every else None}

    def records(self) -> list[dict[str, Any]]:
        """One dict per elite (cells in order, best first): what ``-o ARCHIVE.jsonl`` holds."""
        rows, cells = [], self.cells()
        for cell in sorted(cells, key=_order):
            for e in cells[cell]:
                labels = None if cell is None or not self.axes else [a.labels[i] for a, i in zip(self.axes, cell)]
                rows.append({"id": e.id, "text": e.text, "cell": labels if labels is not None else list(cell),
                             "cell_index": list(cell) if self.axes else None, "fitness": e.fitness,
                             "descriptors": list(e.descriptors), "parent": e.parent, "iteration": e.iteration,
                             **e.extras})
        return rows


def _order(cell: tuple) -> tuple:
    return tuple((0, c) if isinstance(c, (int, np.integer)) else (1, str(c)) for c in cell)
