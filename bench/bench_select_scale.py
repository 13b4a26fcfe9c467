"""Facility location at scale: 1M x 384 float32 unit embeddings + quality, budget 10,000.

Times quadiv's facility-location selector (auto mode: IVF kNN graph + exact greedy on it) and reports
peak RSS of the whole process (data included), the graph objective, and the exact objective estimated
on a uniform sample of rows, next to the same estimate for a random selection of the same size.

    python bench/bench_select_scale.py [--n 1000000 --d 384 --budget 10000 --tradeoff 0.0]
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from quadiv.select._facility_location import FacilityLocation, facility_location_objective


def mixture(n: int, d: int, n_clusters: int, seed: int, chunk: int = 50_000) -> np.ndarray:
    """Normalised Gaussian mixture (cosine ~0.7 to the centre), in float32 chunks (no float64 n x d copy)."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, d), dtype=np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)  # unit centres, noise of norm ~1 around them
    X = np.empty((n, d), dtype=np.float32)
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        x = rng.standard_normal((m, d), dtype=np.float32) * np.float32(np.sqrt(1.0 / d))
        x += centers[rng.integers(0, n_clusters, m)]
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        X[lo:lo + m] = x
    return X


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--budget", type=int, default=10_000)
    ap.add_argument("--clusters", type=int, default=2_000)
    ap.add_argument("--tradeoff", type=float, default=0.0)
    ap.add_argument("--sample", type=int, default=20_000, help="rows for the exact-objective estimate")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    X = mixture(args.n, args.d, args.clusters, args.seed)
    quality = np.random.default_rng(args.seed + 1).random(args.n).astype(np.float32)
    print(f"data: {args.n} x {args.d} float32, peak RSS so far {peak_rss_gib():.2f} GiB")
    t0 = time.perf_counter()
    sel = FacilityLocation().select(X, args.budget, quality=quality, tradeoff=args.tradeoff, seed=args.seed)
    seconds = time.perf_counter() - t0
    print(f"facility-location: {seconds:.1f} s, peak RSS {peak_rss_gib():.2f} GiB, params {sel.params}")
    print(f"selected {len(sel.indices)} items, {len(np.unique(sel.indices))} distinct; graph objective "
          f"{sel.objective:.5f}; gains non-increasing: {bool(np.all(np.diff(sel.gains) <= 1e-12))}")
    rng = np.random.default_rng(args.seed + 2)
    rows = np.sort(rng.choice(args.n, args.sample, replace=False))
    random_pick = rng.choice(args.n, args.budget, replace=False)
    exact = facility_location_objective(X, sel.indices, quality, args.tradeoff, rows=rows)
    baseline = facility_location_objective(X, random_pick, quality, args.tradeoff, rows=rows)
    print(f"exact objective on {args.sample} sampled rows: facility-location {exact:.5f}, "
          f"random {baseline:.5f}")


if __name__ == "__main__":
    main()
