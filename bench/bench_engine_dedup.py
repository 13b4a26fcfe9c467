"""Time dedup (exact + MinHash-LSH + SemDeDup) locally and on a local Ray cluster, on the same pool.

Run: python bench/bench_engine_dedup.py [N]   (default 200,000 texts of 40 random words from a 5,000-word
vocabulary, a fifth of them near-duplicates of another text with the last two words changed; 64-dim
clustered embeddings, 1% of them near-copies of another row). Ray 2.60 started in-process with 2 CPUs
and warmed by a small job. Both runs must keep the same rows with the same representatives and stages;
the script checks it.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import ray

from quadiv.engine import RayEngine
from quadiv.geometry import unit_rows
from quadiv.select import dedup


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(5000)])
    base = [" ".join(row) for row in words[rng.integers(0, 5000, (n - n // 5, 40))]]
    texts = base + [t.rsplit(" ", 2)[0] + " two more" for t in base[: n // 5]]
    centres = rng.normal(size=(100, 64)).astype(np.float32)
    X = unit_rows(centres[rng.integers(0, 100, n)] + 0.5 * rng.normal(size=(n, 64)).astype(np.float32))
    X[-n // 100:] = X[: n // 100] + 1e-3
    quality = rng.random(n)
    run = {"minhash_threshold": 0.8, "semantic_threshold": 0.999}
    start = time.perf_counter()
    local = dedup(texts, X, quality, **run)
    local_s = time.perf_counter() - start
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    engine = RayEngine()
    dedup(texts[:2000], X[:2000], quality[:2000], **run, engine=engine)  # warm the workers
    start = time.perf_counter()
    on_ray = dedup(texts, X, quality, **run, engine=engine)
    ray_s = time.perf_counter() - start
    same = (np.array_equal(local.keep, on_ray.keep) and np.array_equal(local.cluster_of, on_ray.cluster_of)
            and np.array_equal(local.stage_of, on_ray.stage_of))
    assert same
    print(f"{n} texts: local {local_s:.1f} s, ray {ray_s:.1f} s (ratio {ray_s / local_s:.2f}x); removed {local.removed}; "
          f"the same groups: {same}")
    ray.shutdown()


if __name__ == "__main__":
    main()
