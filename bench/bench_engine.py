"""Time measure's one-pass sums (Vendi of every order, mean pairwise distance) locally and on a local Ray cluster.

Run: python bench/bench_engine.py [N] [D]   (default 1,000,000 x 384 float32 unit rows, a mixture of 200 clusters)
The Ray cluster is started in-process with 2 CPUs; a first small job warms its workers (Ray's fixed
start-up cost, reported separately). Both engines must give the same numbers; the script checks it.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import ray

from quadiv.engine import LocalEngine, RayEngine
from quadiv.geometry import unit_rows
from quadiv.measure import vendi_from_spectrum


def run(engine, X) -> tuple[float, list[float]]:
    start = time.perf_counter()
    lam = engine.vendi_spectrum(X)
    values = [vendi_from_spectrum(lam, q) for q in (0.5, 1.0, 2.0, "inf")] + [engine.mean_pairwise_distance(X)]
    return time.perf_counter() - start, values


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    d = int(sys.argv[2]) if len(sys.argv) > 2 else 384
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, d)).astype(np.float32)
    X = unit_rows(centres[rng.integers(0, 200, n)] + 0.5 * rng.normal(size=(n, d)).astype(np.float32))
    local_s, local = run(LocalEngine(), X)
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    engine = RayEngine()
    run(engine, X[:100_000].copy())
    warm_s = time.perf_counter() - started
    ray_s, distributed = run(engine, X)
    assert all(a == b or abs(a - b) <= 1e-9 * abs(a) for a, b in zip(local, distributed)), (local, distributed)
    print(f"{n} x {d}: local {local_s:.2f} s, ray {ray_s:.2f} s (ratio {ray_s / local_s:.2f}x; "
          f"cluster start + first job {warm_s:.1f} s); Vendi q=1 {local[1]:.6f}, equal: {local == distributed}")
    ray.shutdown()


if __name__ == "__main__":
    main()
