"""``LocalEngine``: everything in this process (quadiv's default)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from quadiv.measure import _vendi


class LocalEngine:
    """This process: the batch functions run in a loop, as without an engine."""

    name = "local"

    def __repr__(self) -> str:
        return "LocalEngine()"

    def vendi_spectrum(self, X: Any) -> np.ndarray:
        return _vendi.vendi_spectrum(X)

    def mean_pairwise_distance(self, X: Any) -> float:
        return _vendi.mean_pairwise_distance(X, normalize=False)

    def map_batches(self, fn: Callable, X: Any, *args, batch_size: int = _vendi.DEFAULT_BATCH) -> Iterator:
        """``fn(X[lo:hi], *args)`` for consecutive batches of rows, here, in order."""
        return self.map(fn, ((X[lo:lo + batch_size], *args) for lo in range(0, len(X), batch_size)))

    def map(self, fn: Callable, arguments: Iterable[tuple], *, window: int | None = None, gpus: float = 0) -> Iterator:
        """``fn(*args)`` for each tuple of ``arguments``, here, in order (one at a time: ``window`` and
        ``gpus`` are moot; a model here picks its own device)."""
        return (fn(*args) for args in arguments)

    def share(self, obj: Any) -> Any:
        """``obj`` itself (nothing to copy in one process)."""
        return obj

    def rows(self, X: Any, index: Any) -> Any:
        """``X[index]``."""
        return X[index]

    def connect(self) -> LocalEngine:
        """Nothing to join."""
        return self

    def file_backed(self, X: Any) -> bool:
        """False: here, every row is read in this process anyway."""
        return False

    def parallelism(self) -> int:
        """One: the work runs here, one piece after another."""
        return 1
