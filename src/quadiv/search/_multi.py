"""The native multi-element archive: every elite above a threshold, per cell (RainbowPlus).

RainbowPlus (Dang et al. 2025, arXiv 2504.15047, sec. 3.1; ``knoveleng/rainbowplus`` ``archive.py``)
keeps in each cell a list of every prompt whose fitness exceeds ``fitness_threshold`` (0.5) instead of
one elite. pyribs archives hold one elite per cell, hence this class. With ``cap=1`` and no threshold
it is single-elite MAP-Elites, inserting on strictly higher fitness as pyribs does.
"""
from __future__ import annotations

from collections.abc import Sequence

from quadiv.errors import UsageError
from quadiv.search._archive import ArchiveBase, Elite
from quadiv.search._axes import Axis, cell_of, check_axes


class MultiElementArchive(ArchiveBase):
    """Cells over ``axes``; each keeps the elites with fitness > ``threshold``, at most ``cap`` (the best)."""

    def __init__(self, axes: Sequence[Axis], threshold: float | None = None, cap: int | None = None,
                 qd_score_offset: float = 0.0):
        if cap is not None and cap < 1:
            raise UsageError(f"`cap` must be >= 1 elites per cell, or None for no cap; got {cap}")
        self.axes, self.threshold, self.cap = check_axes(axes), threshold, cap
        self.num_cells = 1
        for axis in self.axes:
            self.num_cells *= axis.size
        self.qd_score_offset, self.holds_one = qd_score_offset, cap == 1
        self._cells: dict[tuple, list[Elite]] = {}

    def cell_of(self, descriptors: Sequence[object]) -> tuple | None:
        return cell_of(self.axes, descriptors)

    def add(self, elite: Elite, wins: bool | None = None) -> bool:
        """Keep ``elite`` if above the threshold and, when the cell is full, better than its worst.

        ``wins`` (one elite per cell only): True replaces the incumbent, False keeps it.
        """
        cell = elite.cell if elite.cell is not None else self.cell_of(elite.descriptors)
        if cell is None or (self.threshold is not None and not elite.fitness > self.threshold):
            return False
        elite.cell = cell
        members = self._cells.setdefault(cell, [])
        if wins is not None and self.holds_one and members:
            if wins:
                members[:] = [elite]
            return wins
        if self.cap is not None and len(members) >= self.cap:
            if not elite.fitness > members[-1].fitness:
                return False
            members.pop()
        position = next((i for i, m in enumerate(members) if elite.fitness > m.fitness), len(members))
        members.insert(position, elite)
        return True

    def cells(self) -> dict[tuple, list[Elite]]:
        return {cell: list(members) for cell, members in self._cells.items() if members}

    def empty_like(self, axes: Sequence[Axis] | None = None) -> MultiElementArchive:
        return MultiElementArchive(axes or self.axes, self.threshold, self.cap, self.qd_score_offset)
