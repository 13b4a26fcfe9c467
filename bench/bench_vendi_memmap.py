"""Vendi and mean pairwise distance streamed from a memory-mapped .npy far larger than one batch.

Writes a (n, d) float32 file of random unit rows (default 10M x 384, 15 GB) to --path, times both
metrics on `np.load(..., mmap_mode="r")`, then deletes the file. Peak RSS counts the mapped file pages
(page cache); the computation itself holds O(d^2 + batch x d).

    python bench/bench_vendi_memmap.py [--n 10000000 --d 384 --path /tmp/quadiv_big.npy]
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from quadiv.measure import mean_pairwise_distance, vendi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--d", type=int, default=384)
    parser.add_argument("--path", default="/tmp/quadiv_big.npy")
    args = parser.parse_args()
    X = np.lib.format.open_memmap(args.path, mode="w+", dtype=np.float32, shape=(args.n, args.d))
    rng = np.random.default_rng(0)
    for lo in range(0, args.n, 500_000):
        x = rng.standard_normal((min(500_000, args.n - lo), args.d), dtype=np.float32)
        X[lo:lo + len(x)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    X.flush()
    del X
    try:
        M = np.load(args.path, mmap_mode="r")
        start = time.perf_counter()
        v = vendi(M)
        t_vendi = time.perf_counter() - start
        start = time.perf_counter()
        m = mean_pairwise_distance(M, normalize=False)
        t_mpd = time.perf_counter() - start
    finally:
        os.remove(args.path)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{args.n} x {args.d} memmap: vendi {v:.2f} in {t_vendi:.1f} s; mean_pairwise_distance {m:.5f} "
          f"in {t_mpd:.1f} s; peak RSS {rss:.2f} GiB (mapped file pages included)")


if __name__ == "__main__":
    main()
