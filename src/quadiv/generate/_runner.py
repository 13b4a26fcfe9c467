"""Run a strategy over many prompts with bounded concurrency; journal every finished row; write OUT at the end.

One job per prompt calls ``strategy.run(backend, prompt, n, prompt_seed(seed, prompt.id))`` on one of
``concurrency`` worker threads (strategies are synchronous; the backend is thread-safe and bounds its
own connections). Each prompt's seed is derived from the run seed and its id, so two prompts never
share their samples' seeds. The main thread alone writes the journal, so rows are recorded in the
order jobs finish and each (prompt_id, sample) exactly once. Samples that come back empty or missing
are asked for again with seeds ``prompt seed + attempt * n``, up to ``max_attempts`` tries per prompt.
When every sample of every prompt is recorded, OUT is written atomically from the journal, in (prompt
order, sample) order, and the journal is removed: OUT exists only for a complete run. A run that stops
(an error, Ctrl-C) cancels and joins its workers before it raises, and removes a journal that holds no
row (a run that failed before any row is no run).
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quadiv._signals import block_sigint_here
from quadiv.errors import GenerationError, RunStopping, UsageError
from quadiv.generate._base import Backend, Strategy, check_capabilities
from quadiv.generate._chat import sub_seed
from quadiv.generate._journal import Journal, journal_path
from quadiv.generate._prompt_files import Prompt, fingerprint

_JSONL = (".jsonl", ".ndjson")
ABANDON_AFTER = 5.0  # seconds the workers of a backend without cancel() get to finish after an error


@dataclass
class GenerationResult:
    """What a finished run wrote and what it cost."""

    output: Path
    rows: int
    prompts: int
    n: int
    resumed: int
    generated: int
    seconds: float
    usage: dict[str, int] = field(default_factory=dict)


def run_generation(prompts: Sequence[Prompt], strategy: Strategy, backend: Backend, output: str | os.PathLike, *,
                   n: int, seed: int = 0, concurrency: int = 8, resume: bool = False, max_attempts: int = 3,
                   progress: Callable[[int], None] | None = None) -> GenerationResult:
    """Generate ``n`` rows per prompt into ``output`` (JSONL, or any format quadiv.io writes), resumably.

    The journal ``output + '.journal'`` records finished rows; with ``resume`` a run continues the
    journal of an earlier run with the same settings, else an existing journal is an error.
    ``progress(k)`` is told of every k rows finished (rows taken from the journal count at once).
    """
    _check_arguments(prompts, output, n, concurrency, max_attempts)
    check_capabilities(strategy, backend)
    started = time.perf_counter()
    params = _plain(strategy.params())
    settings = _plain({"prompts": fingerprint(prompts), "strategy": strategy.name, "params": params,
                       "model": backend.model, "backend": backend.name, "n": n, "seed": seed})
    journal = Journal.open(journal_path(output), settings, resume)
    try:
        resumed = len(journal.done)
        if progress is not None and resumed:
            progress(resumed)
        todo = [(p, missing) for p in prompts if (missing := [s for s in range(n) if (p.id, s) not in journal.done])]
        job = _Job(strategy, _Guarded(backend), params, n, seed, max_attempts)
        _run_jobs(todo, job, concurrency, journal, progress)
        rows = journal.rows()
    except BaseException:
        if journal.done:
            journal.close()
        else:
            journal.remove()
        raise
    journal.close()
    _write_output([rows[(p.id, s)] for p in prompts for s in range(n)], output)
    journal.remove()
    usage = backend.usage() if hasattr(backend, "usage") else {}
    return GenerationResult(Path(output), len(rows), len(prompts), n, resumed, len(rows) - resumed,
                            time.perf_counter() - started, usage)


def prompt_seed(seed: int, prompt_id: Any) -> int:
    """The seed of one prompt's samples: derived from the run ``seed`` and the prompt's id (SeedSequence).

    The id enters as the first 8 bytes of the SHA-256 of its JSON text, so the seed is the same in
    every process and on resume, and two prompts of a run (almost surely) never share a seed.
    """
    digest = hashlib.sha256(json.dumps(prompt_id, default=str).encode("utf-8")).digest()
    return sub_seed(seed, int.from_bytes(digest[:8], "little"))


class _Guarded:
    """The backend as the workers see it: once ``stop`` is set, every further call raises RunStopping.

    A strategy makes several backend calls per prompt; after an error or Ctrl-C the worker's next call
    ends its job instead of running it to the end. Attributes other than the calls pass through.
    """

    def __init__(self, backend: Backend):
        self._backend, self.stop = backend, threading.Event()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._backend, name)
        if name not in ("generate", "score", "label_logprobs"):
            return value

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.stop.is_set():
                raise RunStopping("the run is stopping")
            return value(*args, **kwargs)
        return guarded

    def cancel(self) -> bool:
        """Refuse further calls and cancel those in flight (``backend.cancel()``); False if it has no cancel."""
        self.stop.set()
        cancel = getattr(self._backend, "cancel", None)
        if cancel is not None:
            cancel()
        return cancel is not None


@dataclass
class _Job:
    """One prompt's missing samples: run the strategy, keep non-empty texts, ask again for the rest."""

    strategy: Strategy
    backend: _Guarded
    params: dict[str, Any]
    n: int
    seed: int
    max_attempts: int

    def __call__(self, prompt: Prompt, missing: list[int]) -> tuple[list[dict], BaseException | None]:
        """(finished rows, the error that stopped the job or None)."""
        rows: list[dict] = []
        try:
            # a deterministic strategy returns the same rows on every try: asking again could only repeat texts
            for attempt in range(1 if self.strategy.deterministic else self.max_attempts):
                got = self._attempt(prompt, missing, attempt)
                rows += [self._row(prompt, s, extras) for s, extras in got.items() if _has_text(extras)]
                missing = [s for s in missing if not _has_text(got.get(s))]
                if not missing:
                    return rows, None
        except Exception as err:  # noqa: BLE001 (handed to the main thread, which raises it)
            return rows, err
        return rows, GenerationError(
            f"prompt {prompt.id!r}: sample(s) {missing} came back empty or missing "
            f"{1 if self.strategy.deterministic else self.max_attempts} time(s) "
            f"from {self.backend.name} ({self.backend.model}); check the model, the prompt and max_tokens, then "
            "rerun with --resume")

    def _attempt(self, prompt: Prompt, missing: list[int], attempt: int) -> dict[int, dict]:
        """Sample -> the strategy's row. Try 0 runs all n (same seeds as a fresh run), later tries only the missing."""
        seed = prompt_seed(self.seed, prompt.id)
        if attempt == 0:
            out = self.strategy.run(self.backend, prompt.text, self.n, seed)
            return {s: out[s] for s in missing if s < len(out)}
        out = self.strategy.run(self.backend, prompt.text, len(missing), seed + attempt * self.n)
        return dict(zip(missing, out))

    def _row(self, prompt: Prompt, sample: int, extras: dict[str, Any]) -> dict[str, Any]:
        core = {"id": f"{prompt.id}/{sample}", "prompt_id": prompt.id, "sample": sample, "prompt": prompt.text,
                "text": extras["text"], "strategy": self.strategy.name, "params": self.params,
                "model": self.backend.model, "backend": self.backend.name}
        return {**core, **{k: v for k, v in extras.items() if k not in core}}


def _has_text(row: dict | None) -> bool:
    return isinstance(row, dict) and isinstance(row.get("text"), str) and bool(row["text"].strip())


def _run_jobs(todo: list[tuple[Prompt, list[int]]], job: _Job, concurrency: int, journal: Journal,
              progress: Callable[[int], None] | None) -> None:
    """Run the jobs on worker threads; journal rows as jobs finish; raise the first error.

    After an error (or Ctrl-C) the workers take no new job, their backend calls are cancelled
    (:class:`_Guarded`), and every worker is joined before the error goes on: no thread is left
    running a model when the interpreter exits. A backend without ``cancel()`` (HTTP) gives its
    workers ``ABANDON_AFTER`` seconds to finish their requests; one still waiting is left behind (a
    daemon thread that takes no new job and writes nothing). A second Ctrl-C stops the wait.
    """
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    results: queue.Queue = queue.Queue()
    stop = threading.Event()
    workers = min(concurrency, len(todo))
    for item in todo:
        jobs.put(item)
    for _ in range(workers):
        jobs.put(None)

    def work() -> None:
        block_sigint_here()
        while not stop.is_set() and (item := jobs.get()) is not None:
            try:
                results.put(job(*item))
            except BaseException as err:  # noqa: BLE001 (the main thread re-raises it)
                results.put(([], err))

    threads = [threading.Thread(target=work, name=f"quadiv-generate-{i}", daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(len(todo)):
            rows, error = results.get()
            if rows:
                journal.append(rows)
                if progress is not None:
                    progress(len(rows))
            if error is not None:
                raise error
    except BaseException:
        stop.set()
        deadline = None if job.backend.cancel() else time.monotonic() + ABANDON_AFTER
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        raise


def _check_arguments(prompts: Sequence[Prompt], output: str | os.PathLike, n: int, concurrency: int,
                     max_attempts: int) -> None:
    if n < 1 or concurrency < 1 or max_attempts < 1:
        raise UsageError(f"n, concurrency and max_attempts must be >= 1; got {n}, {concurrency} and {max_attempts}")
    if not prompts:
        raise UsageError("no prompts to generate for")
    if len({p.id for p in prompts}) != len(prompts):
        raise UsageError("prompt ids must be unique: every output row is named prompt_id/sample")
    if not str(output).lower().endswith(_JSONL):
        from quadiv.io import detect_format

        detect_format(output, writing=True)
    if not Path(output).parent.is_dir():
        raise UsageError(f"the folder of {output} does not exist: create it or choose another output")


def _write_output(rows: list[dict], output: str | os.PathLike) -> None:
    """JSONL line by line (types kept as the journal has them); other formats through quadiv.io.write."""
    from quadiv import io

    if str(output).lower().endswith(_JSONL):
        with io.atomic_write(output) as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        return
    import pyarrow as pa

    io.write(pa.Table.from_pylist(rows), output)


def _plain(obj: Any) -> Any:
    """``obj`` as JSON would give it back (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(obj, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))
