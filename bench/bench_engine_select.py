"""Time select on Ray against local on the same pool: facility location (pattern C) and k-center, DPP (pattern B).

Run: python bench/bench_engine_select.py [N] [D] [BUDGET] [METHODS]   (default 1,000,000 x 384 float32 unit rows
from a mixture of 200 clusters, budget 1000, methods facility-location,k-center,dpp,cluster,quad). The Ray cluster is started in-process with 2 CPUs and warmed by a
small job (its fixed start-up cost, reported separately). Facility location runs locally on one kNN graph
(the default sparse mode) and on Ray over k-means parts (one per CPU, exact gain merge); both selections are
scored by ``facility_location_objective`` on the same uniform sample of 5,000 rows, and the Ray run's own
``sample_check`` (20,000 rows) is printed. k-center, DPP, cluster and quad must make the same picks on both; the
script checks it.
"""
from __future__ import annotations

import resource
import sys
import time

import numpy as np
import ray

from quadiv.engine import RayEngine
from quadiv.geometry import unit_rows
from quadiv.select import select
from quadiv.select._facility_location import facility_location_objective


def timed(**kwargs):
    start = time.perf_counter()
    chosen = select(**kwargs)
    return time.perf_counter() - start, chosen


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    d = int(sys.argv[2]) if len(sys.argv) > 2 else 384
    budget = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, d)).astype(np.float32)
    X = unit_rows(centres[rng.integers(0, 200, n)] + 0.5 * rng.normal(size=(n, d)).astype(np.float32))
    quality = rng.random(n)
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    engine = RayEngine()
    select(X[:20_000].copy(), 10, "k-center", engine=engine)
    print(f"{n} x {d}, budget {budget}; Ray cluster start + first job {time.perf_counter() - started:.1f} s")
    rows = np.sort(rng.choice(n, 5000, replace=False))
    methods = sys.argv[4].split(",") if len(sys.argv) > 4 else ["facility-location", "k-center", "dpp", "cluster", "quad"]
    for method in methods:
        common = dict(X=X, budget=budget, method=method, quality=quality, tradeoff=0.3, seed=0)
        local_s, local = timed(**common)
        ray_s, on_ray = timed(engine=engine, **common)
        line = f"{method}: local {local_s:.1f} s, ray {ray_s:.1f} s (ratio {ray_s / local_s:.2f}x)"
        if method == "facility-location":
            score = [facility_location_objective(X, s.indices, quality, 0.3, rows=rows) for s in (local, on_ray)]
            p = on_ray.params
            line += (f"; objective on 5,000 rows: local {score[0]:.5f}, ray {score[1]:.5f} "
                     f"(ratio {score[1] / score[0]:.4f}); parts {p['partitions']} {p['partition_rows']}, "
                     f"sample_check {p['sample_check']}")
        else:
            assert np.array_equal(local.indices, on_ray.indices), method
            line += "; the same picks"
        print(line, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"driver peak RSS {peak:.2f} GiB (X itself {X.nbytes / 2**30:.2f} GiB)")
    ray.shutdown()


if __name__ == "__main__":
    main()
