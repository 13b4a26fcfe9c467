"""Time `quadiv embed`'s shard writer locally and on a local Ray cluster, and scoring with the heuristic
scorer the same two ways, on the same texts.

Run: python bench/bench_engine_embed.py [N]   (default 400,000 texts: AlpacaEval outputs from ../shared/data,
cut to 400 characters, each made distinct by its row number). Static embedder, shards of 50,000 rows;
Ray 2.60 started in-process with 2 CPUs and warmed by a small job. Both runs must write the same shards
and the same scores; the script checks it, and prints the driver's peak resident memory after each stage.
"""
from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import ray

from quadiv.embed import embed_to_shards, get_embedder
from quadiv.engine import RayEngine
from quadiv.quality import get_scorer, score

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400_000
    outputs = [json.loads(line)["output"][:400] for line in DATA.read_text().splitlines()]
    texts = [f"{outputs[i % len(outputs)]} #{i}" for i in range(n)]
    ids = [f"r{i}" for i in range(n)]
    model = get_embedder("static")
    model.encode(["warm the tokenizer"])
    scorer = get_scorer("heuristic")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    engine = RayEngine()
    with tempfile.TemporaryDirectory() as tmp:
        embed_to_shards(texts[:4000], ids[:4000], model, Path(tmp) / "warm", shard_rows=2000, engine=engine)
        score(texts[:4000], scorer, cache=False, engine=engine)
        times = {}
        for name, where in (("local", None), ("ray", engine)):
            start = time.perf_counter()
            embed_to_shards(texts, ids, model, Path(tmp) / name, shard_rows=50_000, engine=where)
            times[f"embed {name}"] = time.perf_counter() - start
            print(f"embed {name}: {times[f'embed {name}']:.1f} s, driver peak RSS {peak_gib():.2f} GiB", flush=True)
        same = ds.dataset(Path(tmp) / "local", format="parquet").to_table().sort_by("row").equals(
            ds.dataset(Path(tmp) / "ray", format="parquet").to_table().sort_by("row"))
        scores = {}
        for name, where in (("local", None), ("ray", engine)):
            start = time.perf_counter()
            scores[name] = score(texts, scorer, cache=False, batch_size=10_000, engine=where).values
            times[f"score {name}"] = time.perf_counter() - start
            print(f"score {name}: {times[f'score {name}']:.1f} s, driver peak RSS {peak_gib():.2f} GiB", flush=True)
    print(f"n = {n:,}: embed ray/local = {times['embed ray'] / times['embed local']:.2f}x (same shards: {same}); "
          f"score ray/local = {times['score ray'] / times['score local']:.2f}x (same scores: "
          f"{np.array_equal(scores['local'], scores['ray'], equal_nan=True)})")


if __name__ == "__main__":
    main()
