"""The one way a model's batches run on an engine: ``method_map`` (embedders and scorers alike).

Here, the batches run one after another in this process. On an engine with workers (Ray), the model is
stored once (``engine.share``) and every batch is one task that calls the model's method on it: a task
whose worker dies is retried, and at most two batches per CPU are in flight, so the answers waiting for
the driver stay bounded whatever the pool's size.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any


def method_map(engine: Any, model: Any, method: str, batches: Iterable[Any]) -> Iterator[Any]:
    """``getattr(model, method)(batch)`` for each batch, in order: here, or as tasks on ``engine``."""
    if elsewhere(engine) is None:
        call = getattr(model, method)
        return (call(batch) for batch in batches)
    shared = engine.share(model)
    return run_map(engine, call_method, ((shared, method, batch) for batch in batches))


def run_map(engine: Any, fn: Callable, arguments: Iterable[tuple]) -> Iterator[Any]:
    """``fn(*args)`` for each tuple, in order: here, or as tasks on ``engine`` (two per CPU in flight)."""
    if elsewhere(engine) is None:
        return (fn(*args) for args in arguments)
    return engine.map(fn, arguments, window=2 * engine.parallelism())


def elsewhere(engine: Any) -> Any:
    """``engine`` when it runs work in other processes (Ray), else None (None or the local engine)."""
    return None if engine is None or getattr(engine, "name", None) == "local" else engine


def call_method(model: Any, method: str, batch: Any) -> Any:
    """``getattr(model, method)(batch)`` (a task's body: the model arrives once per task)."""
    return getattr(model, method)(batch)
