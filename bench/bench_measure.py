"""End-to-end `quadiv measure` on the shared AlpacaEval answers, cold and warm embedding cache.

Times the whole command (read, embed with the default `static` embedder, every default metric
overall and for each of the 10 generators) with a fresh cache (distillation and embedding
included) and again with the cache warm. As a reference point, times the vendi-score package's
default path (`score_X`, the n x n kernel) for the per-group Vendi alone on the same embeddings.

    python bench/bench_measure.py [--data ../shared/data/alpaca_eval_outputs.jsonl]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def timed_measure(data: Path, cache: str) -> tuple[float, dict]:
    env = {**os.environ, "QUADIV_CACHE": cache}
    cmd = [sys.executable, "-m", "quadiv", "measure", str(data), "--group-field", "generator",
           "--quality-field", "quality", "--json"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - start, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        cold, result = timed_measure(args.data, cache)
        warm, _ = timed_measure(args.data, cache)
        from quadiv import io
        from quadiv.embed import embed

        os.environ["QUADIV_CACHE"] = cache
        table = io.read(str(args.data))
        X = embed(io.render_texts(table, "output"), embedder="static")
    groups = np.array(table.column("generator").to_pylist())
    from vendi_score import vendi as vendi_ref

    start = time.perf_counter()
    ref = {g: vendi_ref.score_X(X[groups == g].astype(np.float64)) for g in np.unique(groups)}
    ref_s = time.perf_counter() - start
    worst = max(abs(ref[g] - result["groups"][g]["vendi"]) / ref[g] for g in ref)
    print(f"rows: {result['n']}, groups: {len(result['groups'])}, metrics per set: {len(result['metrics'])}")
    print(f"quadiv measure, cold cache (distil + embed + all metrics): {cold:.2f} s")
    print(f"quadiv measure, warm cache (all metrics):                   {warm:.2f} s")
    print(f"vendi-score score_X, per-group Vendi only:                  {ref_s:.2f} s "
          f"(max rel. difference {worst:.1e})")


if __name__ == "__main__":
    main()
