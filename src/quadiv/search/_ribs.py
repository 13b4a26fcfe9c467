"""A thin adapter over pyribs archives (``ribs`` >= 0.12), holding texts as object solutions.

pyribs (Tjanaka et al. 2023, arXiv 2303.00191) stores one elite per cell. GENERATION.md sec. 7.6
verified that ``solution_dim=()`` with ``solution_dtype=object`` holds Python strings; the elite
itself rides in an object ``extra_field``. GridArchive bins are uniform, so a numeric axis with
custom ticks (QDAIF) is remapped monotonically onto [0, bins] first (:meth:`Axis.remap`);
categorical axes use CategoricalArchive, or grid indices in a mixed grid. pyribs is the optional
extra ``quadiv[search]``, imported when an archive is built.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from quadiv._deps import require
from quadiv.errors import UsageError
from quadiv.search._archive import ArchiveBase, Elite
from quadiv.search._axes import Axis, cell_of, check_axes

_FIELDS = {"elite": ((), object)}


def _ribs() -> Any:
    return require("ribs.archives", "search", "pyribs archives", package="ribs")


class RibsArchive(ArchiveBase):
    """A pyribs archive behind the archive protocol; build one with :meth:`grid`, :meth:`cvt` or :meth:`proximity`."""

    def __init__(self, archive: Any, axes: Sequence[Axis] = (), rebuild: Any = None):
        self._archive, self.axes, self._rebuild = archive, tuple(axes), rebuild
        self.qd_score_offset = float(archive.qd_score_offset)
        self.num_cells = None if type(archive).__name__ == "ProximityArchive" else int(archive.cells)
        self.holds_one = self.num_cells is not None

    @classmethod
    def grid(cls, axes: Sequence[Axis], qd_score_offset: float = 0.0, seed: int | None = None) -> RibsArchive:
        """CategoricalArchive when every axis is categorical, else a GridArchive over cell coordinates."""
        axes = check_axes(axes)
        archives = _ribs()
        common = {"solution_dim": (), "solution_dtype": object, "extra_fields": _FIELDS,
                  "qd_score_offset": qd_score_offset, "seed": seed}
        if all(a.categorical for a in axes):
            archive = archives.CategoricalArchive(categories=[list(a.categories) for a in axes], **common)
        else:
            archive = archives.GridArchive(dims=[a.size for a in axes], ranges=[(0, a.size) for a in axes],
                                           epsilon=1e-9, **common)
        return cls(archive, axes, lambda new: cls.grid(new or axes, qd_score_offset, seed))

    @classmethod
    def cvt(cls, cells: int, ranges: Sequence[tuple[float, float]], qd_score_offset: float = 0.0, seed: int = 0,
            samples: int = 100_000) -> RibsArchive:
        """A CVTArchive: ``cells`` Voronoi cells from k-means over ``samples`` uniform points in ``ranges``."""
        archive = _ribs().CVTArchive(solution_dim=(), solution_dtype=object, extra_fields=_FIELDS, centroids=cells,
                                     ranges=list(ranges), qd_score_offset=qd_score_offset, seed=seed, samples=samples)
        return cls(archive, (), lambda new: cls.cvt(cells, ranges, qd_score_offset, seed, samples))

    @classmethod
    def proximity(cls, measure_dim: int, k_neighbors: int = 5, novelty_threshold: float = 0.1,
                  local_competition: bool = False, seed: int | None = None) -> RibsArchive:
        """A ProximityArchive: an elite enters when its k-NN novelty in descriptor space exceeds the threshold."""
        archive = _ribs().ProximityArchive(solution_dim=(), solution_dtype=object, extra_fields=_FIELDS,
                                           measure_dim=measure_dim, k_neighbors=k_neighbors,
                                           novelty_threshold=novelty_threshold, local_competition=local_competition,
                                           seed=seed)
        return cls(archive, (), lambda new: cls.proximity(measure_dim, k_neighbors, novelty_threshold,
                                                          local_competition, seed))

    def _measures(self, descriptors: Sequence[object]) -> list:
        if not self.axes:
            values = [float(v) for v in descriptors]
            if len(values) != self._archive.measure_dim:
                raise UsageError(f"this archive takes {self._archive.measure_dim} numeric descriptors; "
                                 f"got {len(values)}")
            return values
        if all(a.categorical for a in self.axes):
            return [str(v) for v in descriptors]
        cell = cell_of(self.axes, descriptors)
        return [a.remap(float(v)) if not a.categorical else cell[k] + 0.5
                for k, (a, v) in enumerate(zip(self.axes, descriptors))]

    def cell_of(self, descriptors: Sequence[object]) -> tuple | None:
        if self.axes:
            return cell_of(self.axes, descriptors)
        if self.num_cells is None:
            return None  # a proximity archive has no fixed cells
        return (int(self._archive.index_of_single(self._measures(descriptors))),)

    def add(self, elite: Elite, wins: bool | None = None) -> bool:
        cell = self.cell_of(elite.descriptors)
        if self.axes and cell is None:
            return False
        objective = float(elite.fitness)
        if wins is not None and self.holds_one and (incumbent := self._incumbent_objective(cell)) is not None:
            if not wins:
                return False
            objective = max(objective, incumbent + 1.0)  # pyribs replaces only on a higher objective
        status = self._archive.add_single(elite.text, objective, self._measures(elite.descriptors), elite=elite)
        added = int(np.asarray(status["status"]).ravel()[0]) > 0
        if added:
            elite.cell = cell
        return added

    def _incumbent_objective(self, cell: tuple) -> float | None:
        occupied, data = self._archive.retrieve_single(self._index_measures(cell))
        return float(data["objective"]) if occupied else None

    def _index_measures(self, cell: tuple) -> list:
        """Measures that fall in ``cell`` (its centre), to look the cell up."""
        if not self.axes:
            return list(self._archive.centroids[cell[0]])
        if all(a.categorical for a in self.axes):
            return [a.categories[i] for a, i in zip(self.axes, cell)]
        return [i + 0.5 for i in cell]

    def cells(self) -> dict[tuple, list[Elite]]:
        data = self._archive.data(["index", "elite"])
        out: dict[tuple, list[Elite]] = {}
        for index, elite in zip(data["index"], data["elite"]):
            key = elite.cell if elite.cell is not None else (int(index),)
            out.setdefault(key, []).append(elite)
        return out

    def empty_like(self, axes: Sequence[Axis] | None = None) -> RibsArchive:
        return self._rebuild(tuple(axes) if axes else None)
