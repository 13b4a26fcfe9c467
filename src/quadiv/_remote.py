"""The one way a model's batches run on an engine: ``method_map`` (embedders and scorers alike).

Here, the batches run one after another in this process. On an engine with workers (Ray), the model is
stored once (``engine.share``) and each task calls the model's method on ``per_task`` consecutive
batches: a task whose worker dies is retried, and at most two tasks per CPU are in flight, so the
answers waiting for the driver stay bounded whatever the pool's size. A worker keeps the last models it
was sent, keyed by their ``name`` (a fingerprint of the model and every setting that changes its output),
so a model that loads its weights on first use loads them once per worker, not once per task. A model
that uses a GPU (``uses_gpu``: the torch embedders and scorers) gets one per task where the cluster has
GPUs; it then finds CUDA where it loads, as it would here.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_HELD: list[tuple[tuple, Any]] = []  # in a worker: the last models used, by (class, name)


def method_map(engine: Any, model: Any, method: str, batches: Iterable[Any], *, per_task: int = 1) -> Iterator[Any]:
    """``getattr(model, method)(batch)`` for each batch, in order: here, or as tasks on ``engine``."""
    if elsewhere(engine) is None:
        call = getattr(model, method)
        return (call(batch) for batch in batches)
    shared, groups = engine.share(model), _groups(iter(batches), max(1, per_task))
    answers = run_map(engine, call_method, ((shared, method, group) for group in groups), gpus=gpus_for(engine, model))
    return itertools.chain.from_iterable(answers)


def run_map(engine: Any, fn: Callable, arguments: Iterable[tuple], *, gpus: float = 0) -> Iterator[Any]:
    """``fn(*args)`` for each tuple, in order: here, or as tasks on ``engine`` (two per CPU in flight,
    each holding ``gpus`` GPUs)."""
    if elsewhere(engine) is None:
        return (fn(*args) for args in arguments)
    return engine.map(fn, arguments, window=2 * engine.parallelism(), gpus=gpus)


def gpus_for(engine: Any, model: Any) -> int:
    """One GPU per task for a model that uses one (a torch model not pinned to the CPU: ``uses_gpu``) on a
    cluster that has GPUs, else none. (Ray 2.60 leaves CUDA_VISIBLE_DEVICES unset for a task without GPUs,
    so a torch model there would find every GPU of its node and share them unscheduled.)"""
    return 1 if getattr(model, "uses_gpu", False) and engine.gpus() >= 1 else 0


def elsewhere(engine: Any) -> Any:
    """``engine`` when it runs work in other processes (Ray), else None (None or the local engine)."""
    return None if engine is None or getattr(engine, "name", None) == "local" else engine


def call_method(model: Any, method: str, batches: list) -> list:
    """``getattr(model, method)(batch)`` for each batch (a task's body), by the worker's held copy."""
    call = getattr(held(model), method)
    return [call(batch) for batch in batches]


def with_held(fn: Callable, model: Any, *args) -> Any:
    """``fn(held(model), *args)``: a task's body that reuses the worker's copy of the model."""
    return fn(held(model), *args)


def held(model: Any) -> Any:
    """This process's copy of an equal model (same class and name) when it holds one, so its loaded
    weights are reused; else ``model``, now held in its place."""
    key = (type(model), getattr(model, "name", id(model)))
    found = next((m for k, m in _HELD if k == key), None)
    if found is None:
        found = model
        _HELD.append((key, model))
        del _HELD[:-2]
    return found


def _groups(batches: Iterator, size: int) -> Iterator[list]:
    while group := list(itertools.islice(batches, size)):
        yield group
