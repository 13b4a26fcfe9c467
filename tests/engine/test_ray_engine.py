"""The Ray engine gives measure's Vendi (every order), qVendi and mean pairwise distance of the local engine."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")

from quadiv import cli
from quadiv.engine import RayEngine, get_engine
from quadiv.errors import UsageError
from quadiv.geometry import unit_rows
from quadiv.measure import measure
from quadiv.select import select

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
METRICS = ["vendi", "vendi_q0.5", "vendi_q2", "vendi_qinf", "vendi_q0.7", "qvendi", "mean_pairwise_distance"]


# .ci/run starts a Ray cluster (ray start --head, 2 CPUs, object store capped) and names it here; else
# each module starts a local one in-process
CLUSTER = os.environ.get("QUADIV_TEST_RAY_ADDRESS")
pytestmark = pytest.mark.timeout(600)  # a hung cluster fails the test instead of the whole run


@pytest.fixture(scope="module")
def engine():
    if CLUSTER:
        RayEngine(address=CLUSTER).parallelism()  # joins it as the CLI does (token authentication included)
    else:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=500_000_000)
    yield RayEngine(address=CLUSTER)
    ray.shutdown()


def clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, d))
    return unit_rows((centres[rng.integers(0, 50, n)] + 0.5 * rng.normal(size=(n, d))).astype(np.float32))


def test_measure_on_ray_equals_local_overall_and_per_group(engine) -> None:
    n = 150_000  # three batches of the one-process pass, the last one partial
    X, rng = clustered(n, 48), np.random.default_rng(1)
    quality, groups = rng.random(n), rng.choice(["a", "b", "tiny"], n, p=[0.6, 0.3999, 0.0001])
    local = measure(X, None, quality, groups, metrics=METRICS)
    distributed = measure(X, None, quality, groups, metrics=METRICS, engine=engine)
    assert set(distributed["groups"]) == {"a", "b", "tiny"}
    for part in [("metrics",), *[("groups", g) for g in local["groups"]]]:
        ours, theirs = local, distributed
        for key in part:
            ours, theirs = ours[key], theirs[key]
        for name in METRICS:
            assert theirs[name] == pytest.approx(ours[name], rel=1e-9), (part, name)


def _listener(reply: bytes | None) -> int:
    """The port of a TCP server here that answers its first client with ``reply`` (or never answers)."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        client, _ = server.accept()
        with contextlib.suppress(OSError), client, server:
            client.recv(64)
            if reply is not None:
                client.sendall(reply)
            client.recv(64)  # held open until the other side gives up

    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def test_unreachable_address_and_unknown_engine_are_one_line_errors(monkeypatch, capsys, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot reach the Ray cluster at 127.0.0.1:1"):
        get_engine("ray", address="127.0.0.1:1")
    with pytest.raises(UsageError, match="choose one of: local, ray"):
        get_engine("spark")
    for reply, problem in ((b"HTTP/1.1 400 Bad Request\r\n\r\n", "is not a Ray cluster's GCS port"),
                           (None, "does not answer")):  # a dashboard's port; a port that never replies
        port = _listener(reply)
        with pytest.raises(UsageError, match=problem):
            get_engine("ray", address=f"127.0.0.1:{port}")
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"text": f"row {i} about {w}"}) + "\n" for i, w in enumerate("abcdef")))
    for extra in (["--engine", "ray", "--address", "127.0.0.1:1"], ["--address", "127.0.0.1:1"]):
        monkeypatch.setattr(sys, "argv", ["quadiv", "measure", str(pool), *extra])
        with pytest.raises(SystemExit) as done:
            cli.main()
        err = capsys.readouterr().err
        assert done.value.code == 2 and len(err.strip().splitlines()) == 1 and "--address" in err, err


def test_the_cli_measures_on_ray(engine, monkeypatch, capsys, tmp_path: Path) -> None:
    X = clustered(3000, 16, seed=2)
    np.save(tmp_path / "X.npy", X)
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"text": f"row {i}", "g": "ab"[i % 2]}) + "\n" for i in range(3000)))
    results = []
    for extra in ([], ["--engine", "ray"]):
        monkeypatch.setattr(sys, "argv", ["quadiv", "measure", str(pool), "--embeddings", str(tmp_path / "X.npy"),
                                          "--group-field", "g", "--metrics", "vendi,mean_pairwise_distance",
                                          "--json", *extra])
        with pytest.raises(SystemExit) as done:
            cli.main()
        assert done.value.code == 0
        results.append(json.loads(capsys.readouterr().out))
    assert results[0]["metrics"] == pytest.approx(results[1]["metrics"], rel=1e-9)
    assert results[0]["groups"]["a"]["vendi"] == pytest.approx(results[1]["groups"]["a"]["vendi"], rel=1e-9)


def _workers(title: bytes) -> list[int]:
    """PIDs of the Ray workers busy with ``title`` now (Ray titles a task's worker ray::<function> and an
    actor's ray::<class>)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(title):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _kill_a_worker_of(job, title: bytes = b"ray::_run") -> int | None:
    """SIGKILL the first Ray worker seen running a task while ``job`` (a thread) runs; its PID, or None."""
    import signal
    import time

    deadline = time.monotonic() + 60
    while job.is_alive() and time.monotonic() < deadline:
        busy = _workers(title)
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            return busy[0]
        time.sleep(0.002)
    return None


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's workers through Linux's /proc")
def test_a_worker_killed_mid_job_changes_nothing(engine) -> None:
    import threading

    X = clustered(800_000, 96, seed=3)  # 13 batches: the job outlives the first kill
    expected = measure(X, None, None, None, metrics=["vendi", "mean_pairwise_distance"])["metrics"]
    result: dict = {}
    job = threading.Thread(target=lambda: result.update(
        measure(X, None, None, None, metrics=["vendi", "mean_pairwise_distance"], engine=RayEngine())["metrics"]))
    job.start()
    killed = _kill_a_worker_of(job)
    job.join(timeout=120)
    assert killed is not None, "no Ray worker was seen running a batch"
    assert result == expected  # the killed task re-ran; the sums, added in batch order, are the same


@pytest.mark.parametrize("method", ["k-center", "mmr", "dpp", "d3"])
@pytest.mark.parametrize(("with_quality", "tradeoff"), [(False, 0.0), (True, 0.0), (True, 0.4)])
def test_greedy_selections_on_ray_make_the_local_picks(engine, method, with_quality, tradeoff) -> None:
    """Pattern B: shards in actors, each pick's message broadcast; picks, gains and objective are the local ones.

    The rows are near-duplicates of 50 centres, and quality has many ties, so ties are broken often;
    120 picks in 24 dimensions run the DPP out of rank, so its quality fallback is exercised too.
    """
    X = clustered(4001, 24, seed=3)
    quality = np.random.default_rng(4).integers(0, 5, len(X)).astype(float) if with_quality else None
    local = select(X, 120, method, quality=quality, tradeoff=tradeoff, seed=5)
    on_ray = select(X, 120, method, quality=quality, tradeoff=tradeoff, seed=5, engine=engine)
    assert np.array_equal(local.indices, on_ray.indices)
    assert np.array_equal(local.gains, on_ray.gains, equal_nan=True) and local.objective == on_ray.objective
    assert on_ray.params["engine"] == "ray" and on_ray.params["shards"] == 2
    assert {key: value for key, value in on_ray.params.items() if key not in ("engine", "shards")} == local.params


@pytest.mark.parametrize(("partition", "merge"), [("kmeans", "gains"), ("kmeans", "greedi"), ("random", "greedi")])
def test_facility_location_on_ray_is_the_local_partitioned_run(engine, partition, merge) -> None:
    """Pattern C: each part in an actor; the picks, gains, objective and records are those of the same
    partitions run in this process, and the Ray engine partitions by k-means unless told otherwise."""
    X = clustered(6000, 16, seed=7)
    quality = np.random.default_rng(8).random(len(X))
    params = {"partition": partition, "partitions": 3, "merge": merge, "check_rows": 2000}
    local = select(X, 80, "facility-location", quality=quality, tradeoff=0.3, seed=2, **params)
    on_ray = select(X, 80, "facility-location", quality=quality, tradeoff=0.3, seed=2, engine=engine, **params)
    assert np.array_equal(local.indices, on_ray.indices)
    assert np.array_equal(local.gains, on_ray.gains, equal_nan=True) and local.objective == on_ray.objective
    assert on_ray.params.pop("engine") == "ray" and on_ray.params == local.params
    default = select(X, 80, "facility-location", quality=quality, tradeoff=0.3, seed=2, engine=engine,
                     mode="sparse")
    assert (default.params["partition"], default.params["partitions"], default.params["merge"]) == ("kmeans", 2, "gains")
    assert default.params["sample_check"]["ratio"] > 0.95
    # a pool small enough for the exact dense greedy is not split: the local picks
    small = select(X[:3000], 40, "facility-location", quality=quality[:3000], tradeoff=0.3, seed=2, engine=engine)
    alone = select(X[:3000], 40, "facility-location", quality=quality[:3000], tradeoff=0.3, seed=2)
    assert small.params["mode"] == "dense" and "partition" not in small.params
    assert np.array_equal(small.indices, alone.indices)


@pytest.mark.parametrize("method", ["cluster", "quad", "quadmix"])
def test_the_cluster_family_on_ray_makes_the_local_picks(engine, method) -> None:
    """k-means assignment as tasks over 65,536-row batches (three here, the last partial): the same
    labels, hence the same picks, as the one-process run."""
    X = clustered(140_000, 16, seed=9)
    quality = np.random.default_rng(10).random(len(X))
    local = select(X, 300, method, quality=quality, tradeoff=0.5, seed=3)
    on_ray = select(X, 300, method, quality=quality, tradeoff=0.5, seed=3, engine=engine)
    assert np.array_equal(local.indices, on_ray.indices) and local.objective == on_ray.objective
    assert on_ray.params.pop("engine") == "ray" and on_ray.params == local.params


def test_dedup_on_ray_removes_the_local_groups(engine, monkeypatch, capsys, tmp_path: Path) -> None:
    """MinHash signatures per batch and LSH candidates per band as tasks, SemDeDup's k-means assignment
    and per-cluster pairs as tasks: the same kept rows, representatives and stages as the local run,
    through the CLI too."""
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(300)]
    base = [" ".join(rng.choice(words, 30)) for _ in range(12_000)]
    texts = base + [t.rsplit(" ", 2)[0] + " new words" for t in base[:3000]]  # near-duplicates
    X = clustered(len(texts), 16, seed=12)
    X[-500:] = X[:500] + 1e-3  # semantic duplicates
    quality = rng.random(len(texts))
    from quadiv.select import dedup

    run = {"minhash_threshold": 0.7, "semantic_threshold": 0.999}
    local = dedup(texts, X, quality, **run)
    on_ray = dedup(texts, X, quality, **run, engine=engine)
    assert local.removed["minhash"] > 1000 and local.removed["semantic"] > 100
    assert np.array_equal(local.keep, on_ray.keep) and np.array_equal(local.cluster_of, on_ray.cluster_of)
    assert local.removed == on_ray.removed and np.array_equal(local.stage_of, on_ray.stage_of)
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts[:4000] + texts[12_000:13_000]))
    kept = []
    for name, extra in (("local", []), ("ray", ["--engine", "ray"])):
        out = tmp_path / f"{name}.jsonl"
        monkeypatch.setattr(sys, "argv", ["quadiv", "dedup", str(pool), "--minhash", "0.7", "-o", str(out), *extra])
        with pytest.raises(SystemExit) as done:
            cli.main()
        assert done.value.code == 0, capsys.readouterr().err
        capsys.readouterr()
        kept.append(out.read_text())
    assert kept[0] == kept[1] and 4000 <= kept[0].count("\n") < 4100  # LSH finds almost all 1,000 near-duplicates


def test_a_method_that_runs_locally_only_is_refused_on_ray(engine) -> None:
    with pytest.raises(UsageError, match="local engine only.*cluster, d3, dpp, facility-location, k-center, mmr, quad, quadmix"):
        select(clustered(50, 8), 5, "prismatic", engine=engine)


def test_the_cli_selects_on_ray(engine, monkeypatch, capsys, tmp_path: Path) -> None:
    X = clustered(2000, 16, seed=6)
    np.save(tmp_path / "X.npy", X)
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"text": f"row {i}", "score": i % 7}) + "\n" for i in range(2000)))
    chosen = []
    for name, extra in (("local", []), ("ray", ["--engine", "ray"])):
        out = tmp_path / f"{name}.jsonl"
        monkeypatch.setattr(sys, "argv", ["quadiv", "select", str(pool), "--embeddings", str(tmp_path / "X.npy"),
                                          "--quality-field", "score", "--method", "k-center", "-n", "40",
                                          "-o", str(out), "--json", *extra])
        with pytest.raises(SystemExit) as done:
            cli.main()
        assert done.value.code == 0
        capsys.readouterr()
        chosen.append(out.read_text())
    assert chosen[0] == chosen[1]
    monkeypatch.setattr(sys, "argv", ["quadiv", "select", str(pool), "--embeddings", str(tmp_path / "X.npy"),
                                      "--method", "prismatic", "-n", "4", "-o", str(tmp_path / "no.jsonl"), "--engine", "ray"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    err = capsys.readouterr().err
    assert done.value.code == 2 and len(err.strip().splitlines()) == 1 and "k-center" in err, err
    assert not (tmp_path / "no.jsonl").exists()


def test_memory_mapped_embeddings_are_read_by_the_workers_with_the_same_results(engine, tmp_path: Path) -> None:
    """A memory-mapped pool travels as (file, offset, rows): measure, k-center and facility location on it
    give what they give on the same rows in memory."""
    from quadiv.engine._rows import FileRows

    X = clustered(70_000, 16, seed=13)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert isinstance(engine.rows(np.asarray(mapped), slice(0, 10)), FileRows)
    metrics = ["vendi", "vendi_q2", "mean_pairwise_distance"]
    assert measure(mapped, None, None, None, metrics=metrics, engine=engine)["metrics"] == \
        measure(X, None, None, None, metrics=metrics, engine=engine)["metrics"]
    for method, params in (("k-center", {}), ("facility-location", {"partitions": 3, "check_rows": 0})):
        in_memory = select(X, 50, method, seed=1, engine=engine, **params)
        from_file = select(mapped, 50, method, seed=1, engine=engine, **params)
        assert np.array_equal(in_memory.indices, from_file.indices) and in_memory.objective == from_file.objective


def test_the_unit_length_check_of_a_memory_mapped_pool_is_one_pass_of_the_workers(engine, tmp_path: Path) -> None:
    """Selector, facility location and k-means each need to know that the rows have unit length; on a
    memory-mapped pool the workers check it (one batch per task), once for all three, and a pool that
    is not of unit length is still normalised."""
    from quadiv.geometry import unit_rows
    from quadiv.geometry._unit import batch_is_unit

    class Counting(RayEngine):
        checks = 0

        def map_batches(self, fn, X, *args, batch_size=None):
            Counting.checks += fn is batch_is_unit
            return super().map_batches(fn, X, *args, batch_size=batch_size)

    counting = Counting(address=CLUSTER)
    X = clustered(40_000, 16, seed=21)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    chosen = select(mapped, 40, "facility-location", seed=2, engine=counting, partitions=2, check_rows=0)
    assert Counting.checks == 1
    assert np.array_equal(chosen.indices, select(X, 40, "facility-location", seed=2, engine=engine, partitions=2,
                                                 check_rows=0).indices)
    np.save(tmp_path / "long.npy", 3 * X)
    long_rows = np.load(tmp_path / "long.npy", mmap_mode="r")
    assert np.allclose(unit_rows(long_rows, engine=counting), X, atol=1e-6) and Counting.checks == 2
    assert unit_rows(np.asarray(mapped), engine=get_engine("local")).shape == X.shape


@pytest.mark.skipif(not CLUSTER, reason="needs a running Ray cluster: .ci/run starts one (QUADIV_TEST_RAY_ADDRESS)")
def test_the_cli_runs_on_a_running_cluster_by_its_address(tmp_path: Path) -> None:
    """quadiv measure/select/embed/score --engine ray --address host:port, each in its own process, join
    the cluster .ci/run started and give the local numbers, picks, vectors and scores."""
    X = clustered(3000, 16, seed=14)
    np.save(tmp_path / "X.npy", X)
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"text": f"row {i}", "q": i % 5}) + "\n" for i in range(3000)))
    outputs = []
    for extra in ([], ["--engine", "ray", "--address", CLUSTER]):
        common = [str(pool), "--embeddings", str(tmp_path / "X.npy"), "--json", *extra]
        measured = subprocess.run([sys.executable, "-m", "quadiv", "measure", *common, "--metrics", "vendi,qvendi",
                                   "--quality-field", "q"], capture_output=True, text=True, timeout=300, check=False)
        assert measured.returncode == 0, measured.stderr
        out = tmp_path / f"picked{len(outputs)}.jsonl"
        picked = subprocess.run([sys.executable, "-m", "quadiv", "select", *common, "--method", "dpp", "-n", "30",
                                 "--quality-field", "q", "-o", str(out)], capture_output=True, text=True, timeout=300, check=False)
        assert picked.returncode == 0, picked.stderr
        outputs.append((json.loads(measured.stdout)["metrics"], out.read_text()))
    assert outputs[0][0] == pytest.approx(outputs[1][0], rel=1e-9) and outputs[0][1] == outputs[1][1]
    from quadiv.embed import load_embeddings

    made = []
    for extra in ([], ["--engine", "ray", "--address", CLUSTER]):
        out, scored = tmp_path / f"emb{len(made)}", tmp_path / f"scored{len(made)}.jsonl"
        for command in (["embed", str(pool), "-o", str(out), "--shard-rows", "700"],
                        ["score", str(pool), "-o", str(scored)]):
            done = subprocess.run([sys.executable, "-m", "quadiv", *command, "--json", *extra], capture_output=True,
                                  text=True, timeout=300, check=False)
            assert done.returncode == 0, done.stderr
        made.append((np.asarray(load_embeddings(out, 3000)), scored.read_text()))
    assert np.array_equal(made[0][0], made[1][0]) and made[0][1] == made[1][1]


def test_a_pool_file_the_workers_cannot_read_is_a_one_line_input_error(engine, tmp_path: Path) -> None:
    """The workers map the file by its path; if it is gone (or not shared with the nodes), the job stops
    with an InputError naming the file, not a Ray traceback."""
    from quadiv.errors import InputError

    path = tmp_path / "X.npy"
    np.save(path, clustered(70_000, 8, seed=15))
    mapped = np.load(path, mmap_mode="r")
    path.unlink()  # this process keeps its mapping; a worker opening the path finds nothing
    with pytest.raises(InputError, match=r"cannot read .*X\.npy.*every node can read it"):
        measure(mapped, None, None, None, metrics=["vendi"], engine=engine)


def test_embedding_on_ray_tasks_fills_the_cache_like_the_local_run(engine, tmp_path: Path, monkeypatch) -> None:
    """The static embedder, stored once, encodes the missing batches as tasks; the vectors equal
    the local ones, and the cache then holds every text, so a rerun encodes nothing."""
    from quadiv.embed import EmbeddingCache, embed, get_embedder

    model = get_embedder("static")
    texts = [f"text number {i} about {['cats', 'ships', 'tax law', 'rain'][i % 4]}" for i in range(9000)]
    local = embed(texts, embedder=model, cache=False, batch_size=1000)
    cache = EmbeddingCache(model.name, path=tmp_path / "cache.sqlite")
    on_ray = embed(texts, embedder=model, cache=cache, batch_size=1000, engine=engine)
    assert np.array_equal(local, on_ray)

    class Refuses:
        name, dim = model.name, model.dim

        def encode(self, batch):
            raise AssertionError(f"encoded {len(batch)} texts again")

    assert np.array_equal(embed(texts, embedder=Refuses(), cache=cache), local)
    cache.close()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's workers through Linux's /proc")
def test_embedding_into_shards_on_ray_writes_the_local_shards_even_when_a_worker_dies(engine, tmp_path: Path) -> None:
    """Each shard is a task that writes its own Parquet file and marker; a worker killed mid-shard is
    retried, and the directory holds the local run's rows, ids, keys and vectors."""
    import threading

    import pyarrow.dataset as ds

    from quadiv.embed import embed_to_shards, get_embedder, load_embeddings

    model = get_embedder("static")
    texts = [f"row {i}: a note about {['cats', 'ships', 'tax law', 'rain'][i % 4]} and {i % 97}" for i in range(60_000)]
    ids = [f"id-{i}" for i in range(len(texts))]
    embed_to_shards(texts, ids, model, tmp_path / "here", shard_rows=4000)
    job = threading.Thread(target=embed_to_shards, args=(texts, ids, model, tmp_path / "ray"),
                           kwargs={"shard_rows": 4000, "engine": engine})
    job.start()
    killed = _kill_a_worker_of(job)
    job.join(timeout=300)
    assert killed is not None, "no Ray worker was seen embedding a shard"
    here, there = (ds.dataset(tmp_path / name, format="parquet").to_table().sort_by("row") for name in ("here", "ray"))
    assert here.equals(there)
    assert np.array_equal(load_embeddings(tmp_path / "ray", len(texts), texts=texts),
                          load_embeddings(tmp_path / "here", len(texts)))


def test_a_model_that_uses_a_gpu_gets_one_per_task_where_the_cluster_has_gpus(tmp_path: Path) -> None:
    """On a cluster with a (logical) GPU, the tasks of a model with ``uses_gpu`` hold one GPU each (Ray shows
    it to them in CUDA_VISIBLE_DEVICES), a CPU-only model's tasks none; the torch models say whether they use
    one. (Run in its own process: a second Ray instance, declared with num_gpus=1. Whether torch then runs on
    the GPU needs a real one: not checked here.)"""
    script = tmp_path / "gpu.py"
    script.write_text("""
import json, os, ray
from quadiv._remote import method_map
from quadiv.engine import RayEngine
ray.init(address="local", num_cpus=2, num_gpus=1, object_store_memory=200_000_000, include_dashboard=False,
         log_to_driver=False)  # a new instance, even beside a running cluster

class Model:  # defined in __main__: Ray sends it by value
    name = "probe"
    def __init__(self, uses_gpu):
        self.uses_gpu = uses_gpu
    def encode(self, batch):
        return [ray.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")]

engine = RayEngine()
print(json.dumps({"gpus": engine.gpus(),
                  "with": list(method_map(engine, Model(True), "encode", [[1], [2], [3]])),
                  "without": list(method_map(engine, Model(False), "encode", [[1]]))}))
""")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False,
                          env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["gpus"] == 1
    assert seen["with"] == [[[0], "0"]] * 3 and seen["without"][0][0] == []
    from quadiv.embed import SentenceTransformerEmbedder, minilm_path

    assert SentenceTransformerEmbedder(minilm_path()).uses_gpu
    assert not SentenceTransformerEmbedder(minilm_path(), device="cpu").uses_gpu


def test_map_with_a_window_keeps_the_order_and_submits_lazily(engine) -> None:
    taken = []

    def arguments():
        for i in range(12):
            taken.append(i)
            yield (i,)

    results = engine.map(np.square, arguments(), window=3)
    assert next(results) == 0 and len(taken) <= 4  # three submitted, then one more as the first is taken
    assert [0, *results] == [i * i for i in range(12)]
    assert list(engine.map(np.square, [(i,) for i in range(5)])) == [0, 1, 4, 9, 16]
    assert list(get_engine("local").map(np.square, [(3,)], window=1)) == [9]


def test_scoring_on_ray_equals_the_local_scores_and_fills_the_cache(engine, tmp_path: Path) -> None:
    """The heuristic scorer, stored once, scores the missing batches as tasks: the scores and every extra
    column equal the local ones, and the cache then holds every item, so a rerun scores nothing."""
    from quadiv.quality import Item, ScoreCache, get_scorer, score

    rows = [json.loads(line) for line in (DATA / "alpaca_eval_outputs.jsonl").read_text().splitlines()][:1500]
    items = [Item(r["output"], r["instruction"]) for r in rows]
    model = get_scorer("heuristic")
    local = score(items, model, cache=False, batch_size=200)
    cache = ScoreCache(model.name, path=tmp_path / "scores.sqlite")
    on_ray = score(items, model, cache=cache, batch_size=200, engine=engine)
    assert np.array_equal(local.values, on_ray.values, equal_nan=True)
    assert local.columns.keys() == on_ray.columns.keys()
    for name, column in local.columns.items():
        np.testing.assert_array_equal(column, on_ray.columns[name], err_msg=name)

    class Refuses:
        name, batch_size, higher_is_better = model.name, 100, True

        def score(self, batch):
            raise AssertionError(f"scored {len(batch)} items again")

    assert np.array_equal(score(items, Refuses(), cache=cache).values, local.values, equal_nan=True)
    cache.close()


def test_the_cli_scores_on_ray(engine, monkeypatch, capsys, tmp_path: Path) -> None:
    pool = DATA / "gsm8k_model_solutions.jsonl"
    written = []
    for name, extra in (("local", []), ("ray", ["--engine", "ray"])):
        out = tmp_path / f"{name}.parquet"
        monkeypatch.setattr(sys, "argv", ["quadiv", "score", str(pool), "--field", "solution", "-o", str(out),
                                          "--json", *extra])
        with pytest.raises(SystemExit) as done:
            cli.main()
        assert done.value.code == 0, capsys.readouterr().err
        capsys.readouterr()
        written.append(pq.read_table(out))
    assert written[0].equals(written[1])


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's workers through Linux's /proc")
def test_an_actor_killed_mid_selection_changes_nothing(engine) -> None:
    """Pattern B keeps each shard's state in an actor; when one dies mid-job the selection runs again
    from its inputs and makes the local picks."""
    import signal
    import threading
    import time

    X = clustered(60_000, 32, seed=16)
    expected = select(X, 600, "k-center", seed=4)
    result: dict = {}
    earlier = set(_workers(b"ray::_Held"))  # actors of earlier tests may still be on their way out
    job = threading.Thread(target=lambda: result.update(chosen=select(X, 600, "k-center", seed=4, engine=engine)))
    job.start()
    killed, deadline = None, time.monotonic() + 60
    while killed is None and job.is_alive() and time.monotonic() < deadline:
        held = [pid for pid in _workers(b"ray::_Held") if pid not in earlier]
        if held:
            time.sleep(0.5)  # let the picks start
            try:
                os.kill(held[0], signal.SIGKILL)
                killed = held[0]
            except ProcessLookupError:  # gone meanwhile: look again
                earlier.add(held[0])
        time.sleep(0.01)
    job.join(timeout=300)
    assert killed is not None, "no Ray actor was seen holding a shard"
    assert np.array_equal(result["chosen"].indices, expected.indices)
    assert result["chosen"].objective == expected.objective
