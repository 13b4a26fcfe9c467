"""Scoring the rows of a pool: items from its text field (and instruction field), one column per scorer."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from quadiv.errors import UsageError
from quadiv.io import Pool, render_texts
from quadiv.quality._base import Item, Scorer, Scores, get_scorer, parse_scorers, split_params
from quadiv.quality._cache import score

INSTRUCTION_FIELD_GUESSES = ("instruction", "prompt", "question", "input", "query")


@dataclass
class ScoredColumn:
    """One scorer's output over a pool: its spec, the scorer, the column name it writes, and its Scores."""

    spec: str
    scorer: Scorer
    column: str
    scores: Scores

    def oriented(self) -> np.ndarray:
        """The score with higher = better (negated for a lower-is-better scorer such as perplexity)."""
        return self.scores.values if self.scorer.higher_is_better else -self.scores.values


def build_scorers(specs: str | Sequence[str], params: Mapping[str, object] | None = None) -> list[tuple[str, Scorer]]:
    """(spec, scorer) for each spec, with ``params`` routed by :func:`split_params` (built before any work)."""
    specs = parse_scorers(specs)
    routed = split_params(params or {}, [s.partition(":")[0] for s in specs])
    return [(s, get_scorer(s, **routed[s.partition(":")[0]])) for s in specs]


def instruction_field_for(pool: Pool, scorers: Sequence[Scorer], given: str | None) -> str | None:
    """The instruction column the scorers need or use: ``given``, else a conventional name the file has."""
    if given is not None or not any(uses_instruction(s) for s in scorers):
        return given
    for name in INSTRUCTION_FIELD_GUESSES:
        if name in pool.table.column_names and name != pool.field:
            return name
    if not any(s.needs_instruction for s in scorers):
        return None
    needing = ", ".join(s.column for s in scorers if s.needs_instruction)
    raise UsageError(f"scorer {needing} scores (instruction, response) pairs and {pool.path} has none of the "
                     f"columns {', '.join(INSTRUCTION_FIELD_GUESSES)}: name the instruction column "
                     "(`instruction_field`)")


def uses_instruction(scorer: Scorer) -> bool:
    """Whether a scorer reads an item's instruction: it needs one, or uses one when there is (complexity)."""
    return scorer.needs_instruction or getattr(scorer, "uses_instruction", False)


def pool_items(pool: Pool, instruction_field: str | None, reference_field: str | None = None) -> list[Item]:
    """One item per row: the pool's rendered text, and the texts of ``instruction_field`` and ``reference_field``."""
    texts = pool.texts
    n = len(texts)
    instructions = render_texts(pool.table, instruction_field, path=pool.path) if instruction_field else [None] * n
    references = render_texts(pool.table, reference_field, path=pool.path) if reference_field else [None] * n
    return [Item(t, i, r) for t, i, r in zip(texts, instructions, references)]


def score_pool(pool: Pool, scorers: Sequence[tuple[str, Scorer]], *, instruction_field: str | None = None,
               reference_field: str | None = None, cache: bool = True,
               progress: Callable[[str, int], Callable[[int], None]] | None = None,
               engine: object = None) -> list[ScoredColumn]:
    """Score every row of ``pool`` with each scorer (cached, resumable); one :class:`ScoredColumn` each.

    Columns are named after the scorers (``heuristic``, ``rm``, ...); a second scorer of the same column
    gets ``_2``, ``_3``. ``progress(label, total)`` returns the ``advance(n_done)`` of one scorer's run.
    ``engine`` (e.g. Ray) scores the missing batches as its tasks (:func:`quadiv.quality.score`).
    """
    field = instruction_field_for(pool, [s for _, s in scorers], instruction_field)
    needing = [spec for spec, s in scorers if getattr(s, "needs_reference", False)]
    if needing and reference_field is None:
        raise UsageError(f"scorer {', '.join(needing)} compares each text with a reference: name the column that "
                         "holds the references (`reference_field`)")
    items = pool_items(pool, field, reference_field)
    out: list[ScoredColumn] = []
    taken: dict[str, int] = {}
    for spec, scorer in scorers:
        taken[scorer.column] = taken.get(scorer.column, 0) + 1
        column = scorer.column if taken[scorer.column] == 1 else f"{scorer.column}_{taken[scorer.column]}"
        runs = [Item(it.text, it.instruction if uses_instruction(scorer) else None,
                     it.reference if getattr(scorer, "needs_reference", False) else None) for it in items]
        advance = progress(f"scoring ({spec})", len(items)) if progress is not None else None
        out.append(ScoredColumn(spec, scorer, column, score(runs, scorer, cache=cache, progress=advance, engine=engine)))
    return out


def with_columns(table: pa.Table, columns: Mapping[str, np.ndarray]) -> pa.Table:
    """``table`` with each named column appended, or replaced where the table already has one of that name."""
    for name, values in columns.items():
        array = pa.array(values.tolist() if values.dtype == object else values, from_pandas=True)
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, array)
        else:
            table = table.append_column(name, array)
    return table


def scored_columns(results: Sequence[ScoredColumn]) -> dict[str, np.ndarray]:
    """The output columns of scored results: each score under its column name, then its extra columns."""
    columns: dict[str, np.ndarray] = {}
    for r in results:
        columns[r.column] = r.scores.values
        columns.update(r.scores.columns)
    return columns


def summarize(results: Sequence[ScoredColumn]) -> dict[str, dict]:
    """Per scorer: how many rows got a score, how many NaN, the mean, and each extra boolean column's count."""
    summary = {}
    for r in results:
        values = r.scores.values
        known = ~np.isnan(values)
        entry = {"scorer": r.scorer.name, "higher_is_better": r.scorer.higher_is_better,
                 "scored": int(known.sum()), "nan": int((~known).sum()),
                 "mean": float(values[known].mean()) if known.any() else None}
        flags = {name: int(np.sum(col == True)) for name, col in r.scores.columns.items()
                 if col.dtype == bool or (col.dtype == object and all(v in (True, False, None) for v in col))}
        if flags:
            entry["true_counts"] = flags
        summary[r.column] = entry
    return summary
