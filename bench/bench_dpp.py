"""Time the greedy quality-diversity selectors (dpp, mmr, qvendi) and check dpp against naive greedy.

Run: python bench/bench_dpp.py
Data: random unit rows (d=384, like MiniLM embeddings) with uniform quality; the timings are
provisional (shared 2-core machine). The naive reference is greedy MAP with every candidate's
log det L_{S+i} from numpy's slogdet.
"""
from __future__ import annotations

import time

import numpy as np

from quadiv.select import _dpp, _mmr, _qvendi  # noqa: F401  (importing registers the selectors)
from quadiv.select._base import select, unit_quality


def unit_rows(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, rng.random(n)


def naive_dpp(X: np.ndarray, q: np.ndarray, k: int, theta: float) -> list[int]:
    """Greedy argmax_i slogdet(L_{S+i}) over all candidates (O(n k^4))."""
    r = np.exp(theta / (2 * (1 - theta)) * unit_quality(q, len(q)))
    L = r[:, None] * (X.astype(np.float64) @ X.T.astype(np.float64)) * r[None, :]
    picks: list[int] = []
    for _ in range(k):
        vals = np.full(len(q), -np.inf)
        for i in np.setdiff1d(np.arange(len(q)), picks):
            sign, val = np.linalg.slogdet(L[np.ix_(picks + [i], picks + [i])])
            vals[i] = val if sign > 0 else -np.inf
        picks.append(int(np.argmax(vals)))
    return picks


def timed(method: str, X: np.ndarray, q: np.ndarray, k: int) -> float:
    start = time.perf_counter()
    select(X, k, method=method, quality=q, tradeoff=0.5)
    return time.perf_counter() - start


def main() -> None:
    X, q = unit_rows(600, 384, seed=1)
    start = time.perf_counter()
    naive = naive_dpp(X, q, 30, 0.5)
    t_naive = time.perf_counter() - start
    start = time.perf_counter()
    fast = select(X, 30, method="dpp", quality=q, tradeoff=0.5).indices.tolist()
    t_fast = time.perf_counter() - start
    print(f"dpp vs naive slogdet greedy (n=600, d=384, k=30): same picks: {fast == naive}; "
          f"naive {t_naive:.2f} s, quadiv {t_fast:.3f} s, ratio {t_naive / t_fast:.0f}x")

    for n, methods in [(20_000, ("dpp", "mmr", "qvendi")), (200_000, ("dpp", "mmr"))]:
        X, q = unit_rows(n, 384)
        for method in methods:
            print(f"{method:7s} n={n:>7,d} d=384 k=200: {timed(method, X, q, 200):7.2f} s")


if __name__ == "__main__":
    main()
