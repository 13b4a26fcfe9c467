"""``LocalEngine``: everything in this process (quadiv's default)."""
from __future__ import annotations

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
