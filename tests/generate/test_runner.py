"""The runner: every (prompt, sample) once, in order; empty texts asked again; resume; the sampling strategy."""
from __future__ import annotations

import json
import threading
import time

import pytest
from conftest import sample_words

from quadiv.errors import InputError, UsageError
from quadiv.generate import (
    Completion,
    GenerationError,
    OpenAIBackend,
    Prompt,
    Sampling,
    Strategy,
    get_strategy,
    journal_path,
    load_prompts,
    run_generation,
)
from quadiv.generate._runner import prompt_seed


class EchoBackend:
    """In-process backend: text = f"{prompt} #{seed + i}"; ``empty`` seeds give ""; records calls."""

    name, model = "echo", "echo-1"

    def __init__(self, capabilities=("chat", "n_samples", "seed"), empty=(), fail_after=None, delay=0.0):
        self.capabilities = frozenset(capabilities)
        self.empty, self.fail_after, self.delay = set(empty), fail_after, delay
        self.calls: list[tuple[str, int, int]] = []
        self.active = self.max_active = 0
        self._lock = threading.Lock()

    def generate(self, requests):
        with self._lock:
            if self.fail_after is not None and len(self.calls) >= self.fail_after:
                raise RuntimeError("backend broke")
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.calls += [(r.messages[-1]["content"], r.n, r.seed) for r in requests]
        time.sleep(self.delay)
        with self._lock:
            self.active -= 1
        return [[Completion("" if r.seed + i in self.empty else f"{r.messages[-1]['content']} #{r.seed + i}", "stop")
                 for i in range(r.n)] for r in requests]


def prompts(k: int) -> list[Prompt]:
    return [Prompt(i, f"prompt {i}") for i in range(k)]


def read_rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_prompt_and_sample_once_in_order(tmp_path):
    out = tmp_path / "out.jsonl"
    result = run_generation(prompts(7), Sampling(temperature=0.5), EchoBackend(delay=0.001), out, n=3, seed=10,
                            concurrency=4)
    rows = read_rows(out)
    assert [(r["prompt_id"], r["sample"]) for r in rows] == [(p, s) for p in range(7) for s in range(3)]
    assert rows[4] == {"id": "1/1", "prompt_id": 1, "sample": 1, "prompt": "prompt 1",
                       "text": f"prompt 1 #{prompt_seed(10, 1) + 1}",
                       "strategy": "sampling", "params": Sampling(temperature=0.5).params(), "model": "echo-1",
                       "backend": "echo", "finish_reason": "stop"}
    assert (result.rows, result.generated, result.resumed) == (21, 21, 0)
    assert not journal_path(out).exists()


def test_workers_never_exceed_concurrency(tmp_path):
    backend = EchoBackend(delay=0.01)
    run_generation(prompts(20), Sampling(), backend, tmp_path / "o.jsonl", n=1, concurrency=3)
    assert 2 <= backend.max_active <= 3


def test_empty_samples_are_asked_again_with_new_seeds(tmp_path):
    base = prompt_seed(0, 0)
    backend = EchoBackend(empty={base + 1, base + 2})  # prompt 0's samples 1 and 2 answer ""
    run_generation(prompts(2), Sampling(), backend, tmp_path / "o.jsonl", n=3, seed=0)
    rows = read_rows(tmp_path / "o.jsonl")
    assert [r["text"] for r in rows[:3]] == [f"prompt 0 #{base}", f"prompt 0 #{base + 3}", f"prompt 0 #{base + 4}"]
    assert sorted(c[1:] for c in backend.calls if c[0] == "prompt 0") == [(2, base + 3), (3, base)]


def test_a_prompt_that_stays_empty_fails_the_run_and_keeps_the_rest(tmp_path):
    out = tmp_path / "o.jsonl"
    base = prompt_seed(0, 0)
    backend = EchoBackend(empty={base + k for k in range(1, 100)})
    with pytest.raises(GenerationError, match=r"sample\(s\) \[1\] came back empty or missing 3 time\(s\)"):
        run_generation(prompts(3), Sampling(), backend, out, n=2, concurrency=1)
    assert not out.exists()
    kept = read_rows(journal_path(out))[1:]
    assert {(r["prompt_id"], r["sample"]) for r in kept} == {(0, 0)} and kept[0]["text"] == f"prompt 0 #{base}"


def test_a_deterministic_strategy_is_not_asked_again(tmp_path):
    class FixedSet(Sampling):  # the same rows whatever the seed, like diverse beam search
        deterministic = True

        def run(self, backend, prompt, n, seed):
            return super().run(backend, prompt, n, 0)

    backend = EchoBackend(empty={1})  # sample 1 comes back empty on every try
    with pytest.raises(GenerationError, match=r"sample\(s\) \[1\] came back empty or missing 1 time"):
        run_generation(prompts(1), FixedSet(), backend, tmp_path / "o.jsonl", n=2, concurrency=1)
    assert len(backend.calls) == 1  # asking again could only repeat the rows already written


def test_resume_does_only_the_missing_work(tmp_path):
    out = tmp_path / "o.jsonl"
    with pytest.raises(RuntimeError, match="backend broke"):
        run_generation(prompts(10), Sampling(), EchoBackend(fail_after=4), out, n=2, concurrency=1)
    assert not out.exists()
    backend = EchoBackend()
    with pytest.raises(UsageError, match="`resume`"):
        run_generation(prompts(10), Sampling(), backend, out, n=2)
    result = run_generation(prompts(10), Sampling(), backend, out, n=2, resume=True)
    assert (result.resumed, result.generated) == (8, 12) and len(backend.calls) == 6
    fresh = tmp_path / "fresh.jsonl"
    run_generation(prompts(10), Sampling(), EchoBackend(), fresh, n=2)
    assert read_rows(out) == read_rows(fresh)


def test_a_half_done_prompt_gets_only_its_missing_samples(tmp_path):
    out = tmp_path / "o.jsonl"
    run_generation(prompts(2), Sampling(), EchoBackend(), out, n=4)
    full = read_rows(out)
    journal = journal_path(out)
    with pytest.raises(GenerationError):
        base = prompt_seed(0, 0)
        run_generation(prompts(2), Sampling(), EchoBackend(empty={base + k for k in (1, 3, *range(4, 100))}), out,
                       n=4, concurrency=1)
    assert [(r["prompt_id"], r["sample"]) for r in read_rows(journal)[1:]] == [(0, 0), (0, 2)]
    result = run_generation(prompts(2), Sampling(), EchoBackend(), out, n=4, resume=True)
    assert read_rows(out) == full and (result.resumed, result.generated) == (2, 6)


def test_resume_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "o.jsonl"
    with pytest.raises(RuntimeError):
        run_generation(prompts(4), Sampling(), EchoBackend(fail_after=1), out, n=1, concurrency=1)
    with pytest.raises(UsageError, match="params"):
        run_generation(prompts(4), Sampling(temperature=0.2), EchoBackend(), out, n=1, resume=True)
    with pytest.raises(UsageError, match="prompts"):
        run_generation(prompts(5), Sampling(), EchoBackend(), out, n=1, resume=True)


def test_missing_capabilities_are_refused_before_any_request(tmp_path):
    backend = EchoBackend()
    with pytest.raises(UsageError, match="needs min_p"):
        run_generation(prompts(2), Sampling(min_p=0.1), backend, tmp_path / "o.jsonl", n=1)
    assert backend.calls == [] and not journal_path(tmp_path / "o.jsonl").exists()


def test_strategy_extras_are_kept_but_never_replace_the_core_fields(tmp_path):
    class Tagged(Strategy):
        name = "tagged"

        def run(self, backend, prompt, n, seed):
            return [{"text": f"t{i}", "id": "mine", "score": i / 2} for i in range(n)]

    run_generation(prompts(1), Tagged(), EchoBackend(), tmp_path / "o.jsonl", n=2)
    rows = read_rows(tmp_path / "o.jsonl")
    assert [(r["id"], r["text"], r["score"]) for r in rows] == [("0/0", "t0", 0.0), ("0/1", "t1", 0.5)]


def test_parquet_output_and_bad_extension(tmp_path):
    pa = pytest.importorskip("pyarrow.parquet")
    run_generation(prompts(2), Sampling(), EchoBackend(), tmp_path / "o.parquet", n=2)
    assert pa.read_table(tmp_path / "o.parquet").column("id").to_pylist() == ["0/0", "0/1", "1/0", "1/1"]
    with pytest.raises(UsageError, match="unknown file type"):
        run_generation(prompts(2), Sampling(), EchoBackend(), tmp_path / "o.xlsx", n=2)


@pytest.mark.parametrize("n, seed", [(0, 0), (1, 0)])
def test_bad_arguments(tmp_path, n, seed):
    with pytest.raises(UsageError):
        run_generation([] if n else prompts(1), Sampling(), EchoBackend(), tmp_path / "o.jsonl", n=n, seed=seed)


def test_sampling_asks_once_for_n_or_n_times_with_seeds():
    with_n, without_n = EchoBackend(), EchoBackend(capabilities=("chat", "seed"))
    assert [r["text"] for r in Sampling().run(with_n, "p", 3, 5)] == ["p #5", "p #6", "p #7"]
    assert [r["text"] for r in Sampling().run(without_n, "p", 3, 5)] == ["p #5", "p #6", "p #7"]
    assert with_n.calls == [("p", 3, 5)] and without_n.calls == [("p", 1, 5), ("p", 1, 6), ("p", 1, 7)]


def test_sampling_parameters():
    strategy = get_strategy("sampling", temperature=0.7, min_p=0.05, system="Be brief.")
    assert strategy.params() == {"temperature": 0.7, "top_p": 1.0, "min_p": 0.05, "max_tokens": 512,
                                 "system": "Be brief.", "logprobs": None}
    assert strategy.requires == {"chat", "min_p"} and Sampling().requires == {"chat"}
    backend = EchoBackend()
    strategy.run(backend, "p", 1, 0)
    for bad in ({"temperature": -1}, {"top_p": 0}, {"min_p": 2}, {"max_tokens": 0}, {"nucleus": 1}):
        with pytest.raises(UsageError):
            get_strategy("sampling", **bad)


def test_sampling_through_the_http_backend(tmp_path, fake_openai):
    _, url = fake_openai(n_mode="ignore", fail_rate=0.2)
    backend = OpenAIBackend("m", base_url=url, backoff=0.001, concurrency=4)
    run_generation(prompts(5), Sampling(max_tokens=64), backend, tmp_path / "o.jsonl", n=3, seed=2, concurrency=4)
    texts = [r["text"] for r in read_rows(tmp_path / "o.jsonl")]
    assert texts == [" ".join(sample_words(f"prompt {p}", prompt_seed(2, p) + s, 0, 64))
                     for p in range(5) for s in range(3)]


def test_load_prompts_from_text_and_jsonl(tmp_path):
    txt = tmp_path / "p.txt"
    txt.write_text("first\n\n  \nsecond line\n")
    assert load_prompts(txt) == [Prompt(1, "first"), Prompt(4, "second line")]
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"id": "a", "prompt": "x", "topic": "t1"}\n{"id": "b", "prompt": "y", "topic": "t2"}\n')
    assert load_prompts(jsonl) == [Prompt("a", "x"), Prompt("b", "y")]
    assert load_prompts(jsonl, "{topic}: {prompt}")[1] == Prompt("b", "t2: y")
    no_ids = tmp_path / "n.jsonl"
    no_ids.write_text('{"prompt": "x"}\n{"prompt": "y"}\n')
    assert [p.id for p in load_prompts(no_ids)] == [0, 1]


@pytest.mark.parametrize("content, message", [
    ('{"id": 1, "prompt": "x"}\n{"id": 1, "prompt": "y"}\n', "share the id 1"),
    ('{"id": 1, "prompt": "x"}\n\n{"id": 1, "prompt": "y"}\n', "row 1 and row 3 share the id 1"),
    ('{"id": 1, "prompt": " "}\n', "the prompt is empty"),
    ('{"id": 1, "instruction": "x"}\n', "prompt"),
])
def test_bad_prompt_files(tmp_path, content, message):
    path = tmp_path / "p.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_prompts(path)


class Stalling(EchoBackend):
    """'prompt 0' fails at once; every other prompt's call waits until released (or, with cancel, cancelled)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.release = threading.Event()

    def generate(self, requests):
        if requests[0].messages[-1]["content"] == "prompt 0":
            raise RuntimeError("backend broke")
        self.release.wait(30)
        return super().generate(requests)


class Cancellable(Stalling):
    def cancel(self):
        self.release.set()


def run_workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("quadiv-generate-") and t.is_alive()]


def test_on_error_the_workers_are_cancelled_and_joined(tmp_path):
    backend = Cancellable()
    with pytest.raises(RuntimeError, match="backend broke"):
        run_generation(prompts(4), Sampling(), backend, tmp_path / "o.jsonl", n=1, concurrency=4)
    assert backend.release.is_set() and run_workers() == []
    assert not journal_path(tmp_path / "o.jsonl").exists()  # no row was journaled: no run


def test_workers_of_a_backend_without_cancel_are_left_after_the_grace(tmp_path, monkeypatch):
    from quadiv.generate import _runner

    monkeypatch.setattr(_runner, "ABANDON_AFTER", 0.0)
    backend = Stalling()
    try:
        with pytest.raises(RuntimeError, match="backend broke"):
            run_generation(prompts(3), Sampling(), backend, tmp_path / "o.jsonl", n=1, concurrency=3)
        assert run_workers() and all(t.daemon for t in run_workers())
    finally:
        backend.release.set()
        for thread in run_workers():
            thread.join()
