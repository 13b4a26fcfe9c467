"""Greedy selection over row shards (SCALE.md pattern B): one driver loop for k-center, MMR and the DPP.

A greedy method whose step is "update every row's state with the last pick, take the argmax" splits
into shards of rows that each keep their own rows' state. A shard is an object built as
``factory(X_part, *columns_part)`` with ``update(message, picked) -> (best score, its local index,
extra)``: ``picked`` is the local index of the last pick when the shard owns it (to mark it taken),
``message`` what the driver derived from the pick (its row, a DPP direction) and ``extra`` a per-shard
statistic the method reduces (k-center: the largest distance to the picks). The driver takes the best
answer, ties to the lowest global index, which is the one-process argmax because every row's score is
computed by the same elementwise expression wherever its shard lives. Only the message travels per step.

:func:`local_shards` runs one shard here; ``quadiv.engine.RayEngine.shards`` holds one per worker.
:func:`local_actors` and ``RayEngine.actors`` hold the partitions of pattern C the same way.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

Answer = tuple[float, int, float]  # (best score, global index, extra)
Broadcast = Callable[[Any, "int | None"], list[Answer]]


@contextlib.contextmanager
def local_shards(X: np.ndarray, columns: Sequence[np.ndarray], factory: Callable) -> Iterator[Broadcast]:
    """The whole of X as one shard in this process."""
    shard = factory(X, *columns)
    yield lambda message, picked: [shard.update(message, picked)]


@contextlib.contextmanager
def local_actors(factory: Callable, arguments: Sequence[tuple]) -> Iterator[Callable]:
    """``factory(*args)`` for each tuple of ``arguments``, here; yields ``call(method, args_list, which=None)``
    as ``quadiv.engine.RayEngine.actors`` does (the same answers, one after another)."""
    held = [factory(*args) for args in arguments]

    def call(method: str, args_list: Sequence[tuple], which: Sequence[int] | None = None) -> list:
        which = range(len(held)) if which is None else which
        return [getattr(held[k], method)(*args) for k, args in zip(which, args_list, strict=True)]

    yield call


def open_actors(engine: Any, factory: Callable, arguments: Sequence[tuple]):
    """``engine.actors`` (a :mod:`quadiv.engine` engine that holds objects elsewhere), else :func:`local_actors`."""
    return (engine.actors if engine is not None else local_actors)(factory, arguments)


def open_shards(engine: Any, X: np.ndarray, columns: Sequence[np.ndarray], factory: Callable):
    """``engine.shards`` (a :mod:`quadiv.engine` engine that holds shards elsewhere), else :func:`local_shards`."""
    return (engine.shards if engine is not None else local_shards)(X, columns, factory)


def sharded_greedy(broadcast: Broadcast, message: Callable[[int], Any], budget: int,
                   first: tuple[int, float] | None = None) -> tuple[np.ndarray, np.ndarray, list[Answer]]:
    """Up to ``budget`` picks, each the best of the shards' answers; stops early when the best is -inf.

    ``first`` = (index, score) fixes the first pick. Returns (picks, their scores, the shards' answers
    after the last pick, whose ``extra`` describes the final state).
    """
    picks: list[int] = []
    scores: list[float] = []
    pick, note = None, None
    if first is not None:
        pick, score = first
        picks.append(int(pick))
        scores.append(float(score))
        note = message(pick)
    while True:
        answers = broadcast(note, pick)
        if len(picks) == budget:
            break
        score, pick, _ = max(answers, key=lambda answer: (answer[0], -answer[1]))
        if score == -np.inf:
            break
        picks.append(int(pick))
        scores.append(float(score))
        note = message(pick)
    return np.asarray(picks, dtype=np.int64), np.asarray(scores, dtype=np.float64), answers
