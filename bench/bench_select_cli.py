"""`quadiv select` end to end at scale: a 1M-row pool with 1M x 384 embeddings, budget 10,000.

Writes a Parquet pool (id, q) and a float32 .npy of unit rows (a Gaussian mixture) to a temporary
folder, then runs the command under /usr/bin/time and reports wall time, peak RSS and whether the
output holds exactly `budget` distinct rows.

    python bench/bench_select_cli.py [--n 1000000 --d 384 --budget 10000 --method facility-location]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def write_pool(folder: Path, n: int, d: int, clusters: int, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, d), dtype=np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float32, shape=(n, d))
    for lo in range(0, n, 100_000):
        m = min(100_000, n - lo)
        x = rng.standard_normal((m, d), dtype=np.float32) * np.float32(np.sqrt(1.0 / d))
        x += centers[rng.integers(0, clusters, m)]
        X[lo:lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    X.flush()
    del X
    table = pa.table({"id": np.arange(n), "q": rng.uniform(0, 1, n)})
    pq.write_table(table, folder / "pool.parquet")
    return folder / "pool.parquet", folder / "X.npy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=384)
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=2000)
    parser.add_argument("--method", default="facility-location")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pool, npy = write_pool(folder, args.n, args.d, args.clusters, seed=0)
        out = folder / "chosen.parquet"
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "quadiv", "select", str(pool), "--embeddings", str(npy),
               "--quality-field", "q", "--budget", str(args.budget), "--method", args.method, "-o", str(out),
               "--json", "--quiet"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr)
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
        ids = pq.read_table(out).column("id").to_numpy()
        print(f"quadiv select --method {args.method}: n={args.n} d={args.d} budget={args.budget}")
        print(f"wall {wall:.1f} s, peak RSS {rss_kb / 2**20:.2f} GiB, rows written {ids.size}, "
              f"distinct {np.unique(ids).size}")
        print(proc.stdout.strip())


if __name__ == "__main__":
    main()
