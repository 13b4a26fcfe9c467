"""quadiv facility location vs apricot's FacilityLocationSelection(metric='cosine') on the same data.

Data: a normalised Gaussian mixture (n x d float32), or isotropic Gaussian rows (--clusters 0).
apricot maximises sum_i max_{j in S} (x_i . x_j)^2; quadiv runs with its default (inverse-density
weighted) objective and, for reference, with the uniform one (apricot's). Every selection is scored
with apricot's (uniform) objective, evaluated exactly by quadiv.select._facility_location. Peak memory is
tracemalloc's peak of Python/numpy allocations during each call. apricot's numba kernels are compiled on
a small input first so that compile time is not counted.

    python bench/bench_facility_location.py --n 20000 --d 384 --k 200 [--clusters 0] [--dense]
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from quadiv.select._facility_location import FacilityLocation, facility_location_objective


def mixture(n: int, d: int, n_clusters: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, d), dtype=np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)  # unit centres, noise of norm ~1 around them
    noise = rng.standard_normal((n, d), dtype=np.float32) * np.float32(np.sqrt(1.0 / d))
    x = centers[rng.integers(0, n_clusters, n)] + noise
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def gaussian(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak / 2**30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--k", type=int, default=200)
    ap.add_argument("--clusters", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dense", action="store_true", help="also time quadiv's exact dense greedy")
    args = ap.parse_args()
    from apricot import FacilityLocationSelection

    X = mixture(args.n, args.d, args.clusters, args.seed) if args.clusters else gaussian(args.n, args.d, args.seed)
    FacilityLocationSelection(5, metric="cosine").fit(X[:200])  # numba compile, not timed
    runs = {"quadiv (auto)": lambda: FacilityLocation().select(X, args.k, tradeoff=0.0).indices,
            "quadiv uniform": lambda: FacilityLocation(weighting="uniform").select(X, args.k, tradeoff=0.0).indices}
    if args.dense:
        dense = FacilityLocation(mode="dense")
        runs["quadiv (dense)"] = lambda: dense.select(X, args.k, tradeoff=0.0).indices
    runs["apricot"] = lambda: np.asarray(FacilityLocationSelection(args.k, metric="cosine").fit(X).ranking)
    results = {name: timed(fn) for name, fn in runs.items()}
    ref_idx, ref_s, _ = results["apricot"]
    ref_obj = facility_location_objective(X, ref_idx, weighting="uniform")
    print(f"n={args.n} d={args.d} k={args.k}; objective = mean_i max_(j in S) cos^2(i, j)")
    header = ("method", "seconds", "peak GiB", "objective", "obj/apricot", "speed-up")
    print(f"{header[0]:16s} " + " ".join(f"{h:>11s}" for h in header[1:]))
    for name, (idx, sec, gib) in results.items():
        obj = facility_location_objective(X, idx, weighting="uniform")
        assert len(np.unique(idx)) == args.k
        print(f"{name:16s} {sec:11.2f} {gib:11.2f} {obj:11.5f} {obj / ref_obj:11.4f} {ref_s / sec:11.1f}")


if __name__ == "__main__":
    main()
