"""Benchmark quadiv's Vendi score against one X^T X and against the vendi-score package.

Part 1: on one random L2-normalised float32 (n, d) matrix, time a single ``X.T @ X`` (the floor for
any exact Vendi through the d x d dual) and ``quadiv.measure._vendi.vendi``; print the ratio.
Part 2: on a smaller float64 matrix (--ref-n rows), time ``vendi_score.vendi.score_K(X @ X.T, q)``
(the reference builds and diagonalises the n x n kernel) and quadiv on the same data; print the
ratio and the relative difference of the two scores.

    python bench/bench_vendi.py --n 200000 --d 384 --ref-n 5000
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from quadiv.measure._vendi import vendi


def best_times(fns: list[Callable[[], Any]], repeat: int) -> tuple[list[float], list[Any]]:
    """Smallest wall time of each function over `repeat` interleaved rounds, and its last result.

    Interleaving keeps the comparison fair when the machine's load changes during the run.
    """
    best, out = [float("inf")] * len(fns), [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            out[i] = fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best, out


def random_unit_rows(n: int, d: int, dtype: type, seed: int) -> np.ndarray:
    """Gaussian rows scaled to unit L2 norm."""
    X = np.random.default_rng(seed).standard_normal((n, d), dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(dtype, copy=False)


def bench_gram(n: int, d: int, q: float, repeat: int) -> None:
    X = random_unit_rows(n, d, np.float32, seed=0)
    (t_gram, t_vendi), (_, score) = best_times([lambda: X.T @ X, lambda: vendi(X, q)], repeat)
    print(f"[gram]  n={n} d={d} float32 q={q}: X.T@X {t_gram:.3f}s  quadiv vendi {t_vendi:.3f}s  "
          f"ratio {t_vendi / t_gram:.2f}x  (score {score:.4f})")


def bench_reference(n: int, d: int, q: float, repeat: int) -> None:
    from vendi_score.vendi import score_K

    X = random_unit_rows(n, d, np.float64, seed=1)
    (t_ref,), (ref,) = best_times([lambda: score_K(X @ X.T, q)], 1)
    (t_ours,), (ours,) = best_times([lambda: vendi(X, q)], repeat)
    print(f"[ref]   n={n} d={d} float64 q={q}: vendi_score.score_K {t_ref:.3f}s  "
          f"quadiv {t_ours:.4f}s  speed-up {t_ref / t_ours:.0f}x  "
          f"rel. diff {abs(ours - ref) / ref:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows for the X^T X comparison")
    parser.add_argument("--d", type=int, default=384, help="embedding dimension")
    parser.add_argument("--ref-n", type=int, default=5000, help="rows for the vendi-score comparison")
    parser.add_argument("--q", type=float, default=1.0, help="Vendi order")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (best is kept)")
    args = parser.parse_args()
    bench_gram(args.n, args.d, args.q, args.repeat)
    bench_reference(args.ref_n, args.d, args.q, args.repeat)


if __name__ == "__main__":
    main()
