"""A pool larger than the local facility-location path holds: measure and select it on a local Ray cluster.

Run: python bench/bench_engine_10m.py PATH [N] [D] [BUDGET]   (default 10,000,000 x 384 float32 unit rows,
a mixture of 1,000 clusters, written once to PATH as .npy, 15.4 GB; budget 10,000). The embeddings are
memory-mapped: the driver never loads them, Ray's tasks and actors read their rows from the file. The
local facility-location path would hold the rows (15.4 GB) plus its IVF index's copy of them in memory,
more than this 24 GB machine has. Prints the wall time of each step, the driver's peak anonymous memory
(its own arrays, not the file's cached pages) and the facility-location records (parts, sample_check).
"""
from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import ray

from quadiv.engine import RayEngine
from quadiv.measure import measure
from quadiv.select import select


def write_pool(path: str, n: int, d: int, seed: int = 0, block: int = 250_000) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(1000, d)).astype(np.float32)
    out = np.lib.format.open_memmap(path + ".part", mode="w+", dtype=np.float32, shape=(n, d))
    for lo in range(0, n, block):
        rows = centres[rng.integers(0, 1000, min(block, n - lo))] + rng.normal(size=(min(block, n - lo), d)).astype(np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        out[lo:lo + len(rows)] = rows
    out.flush()
    del out
    os.replace(path + ".part", path)


class AnonPeak:
    """The driver's peak RssAnon (its own memory; a memory map's pages are file-backed), sampled every 50 ms."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while not self._stop.wait(0.05):
            for line in open("/proc/self/status"):
                if line.startswith("RssAnon:"):
                    self.peak = max(self.peak, int(line.split()[1]) * 1024)

    def stop(self) -> float:
        self._stop.set()
        return self.peak / 2**30


def main() -> None:
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    d = int(sys.argv[3]) if len(sys.argv) > 3 else 384
    budget = int(sys.argv[4]) if len(sys.argv) > 4 else 10_000
    if not os.path.exists(path):
        start = time.perf_counter()
        write_pool(path, n, d)
        print(f"wrote {n} x {d} float32 to {path} in {time.perf_counter() - start:.0f} s", flush=True)
    X = np.load(path, mmap_mode="r")
    memory = AnonPeak()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    engine = RayEngine()
    start = time.perf_counter()
    metrics = measure(X, None, None, None, metrics=["vendi", "vendi_q2", "mean_pairwise_distance"], engine=engine)
    print(f"measure on Ray: {time.perf_counter() - start:.0f} s, {metrics['metrics']}", flush=True)
    quality = np.random.default_rng(1).random(len(X))
    start = time.perf_counter()
    chosen = select(X, budget, "facility-location", quality=quality, tradeoff=0.3, seed=0, engine=engine)
    p = chosen.params
    print(f"facility location on Ray: {time.perf_counter() - start:.0f} s, {len(set(chosen.indices.tolist()))} "
          f"distinct picks, objective {chosen.objective:.5f}; parts {p['partitions']} {p['partition_rows']}, "
          f"sample_check {p['sample_check']}", flush=True)
    print(f"driver peak anonymous memory {memory.stop():.2f} GiB (file {X.nbytes / 2**30:.1f} GiB)")
    ray.shutdown()


if __name__ == "__main__":
    main()
