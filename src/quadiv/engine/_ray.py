"""``RayEngine``: measure's one-pass sums, k-means assignment and dedup's batches as Ray tasks (SCALE.md
patterns A and D), the greedy selections (k-center, MMR, DPP, D3) over shards held by actors (pattern B),
the same numbers and picks as one process, facility location over partitions held by actors (pattern C),
and embedders held by actors.

Each task computes :func:`quadiv.measure._vendi.batch_moments` of one batch of rows
[k * B, (k + 1) * B) with the one-process batch size B, and the driver adds them in k order, so the
dual Gram, column sums and sums of squares are the one-process ones bit for bit: the Vendi of every
order, qVendi and mean pairwise distance are equal, not close. The driver holds one d x d sum and one
batch's result at a time (O(d^2)); each batch is copied once to Ray's object store, or read by the worker
from the file when the pool is memory-mapped (:mod:`quadiv.engine._rows`). A task whose worker dies is
re-run (``max_retries``); a batch's result does not depend on which worker computed it.
"""
from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from quadiv._deps import require
from quadiv.engine._rows import FileRows, file_rows, resolved
from quadiv.errors import InputError, QuadivError, RemoteError, UsageError, WorkerLost
from quadiv.measure import _vendi

TASK_RETRIES = 3
# A task or actor holds one CPU (or less), but workers inherit the driver's thread settings: two workers
# with two BLAS threads each on two cores took 3x as long. Set before the worker starts, so every
# library (OpenBLAS, MKL, faiss's OpenMP) reads it when it loads.
ONE_THREAD = {"env_vars": {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}


class RayEngine:
    """A Ray cluster: ``address`` of a running one (``ray start --head``), else a local one started here."""

    name = "ray"

    def __init__(self, address: str | None = None, *, batch_size: int = _vendi.DEFAULT_BATCH):
        if address and ":" in address and "://" not in address:
            _check_reachable(address)
        self.address, self.batch_size = address, batch_size
        self._last: tuple[Any, tuple] | None = None

    def __repr__(self) -> str:
        return f"RayEngine(address={self.address!r})"

    def vendi_spectrum(self, X: Any) -> np.ndarray:
        A = np.asarray(X)
        n, d = A.shape
        if n <= d:  # the n x n kernel of a few rows: no pass to distribute
            return _vendi.vendi_spectrum(A)
        G, _, _ = self._moments(A)
        return _vendi.spectrum_from_dual(G, n, _vendi._compute_dtype(A))

    def mean_pairwise_distance(self, X: Any) -> float:
        A = np.asarray(X)
        if A.shape[0] < 2:
            raise UsageError(f"mean_pairwise_distance needs at least 2 rows, got {A.shape[0]}")
        _, total, squares = self._moments(A)
        return _vendi.pairwise_from_sums(total, squares, A.shape[0])

    def _moments(self, A: np.ndarray) -> tuple:
        """(sum B^T B in float64, column sums, sum of squares), one task per batch; cached for the last A."""
        if self._last is not None and self._last[0] is A:
            return self._last[1]
        d = A.shape[1]
        G, total, squares = np.zeros((d, d)), np.zeros(d), 0.0
        # in batch order: the one-process additions, in the same order
        for gram, sums, sq in self.map_batches(_vendi.batch_moments, A, 0, self.batch_size):
            G += gram
            total += sums
            squares += sq
        self._last = (A, (G, total, squares))
        return self._last[1]

    def map_batches(self, fn: Callable, X: Any, *args, batch_size: int | None = None) -> Iterator:
        """``fn(X[lo:hi], *args)`` for consecutive batches of rows, one Ray task each (one BLAS thread,
        retried if its worker dies), yielded in batch order as they are needed (the driver holds one
        result at a time). Each batch is shipped as its task is submitted, so copying batch k+1 to the
        object store overlaps the work on batches <= k."""
        size = batch_size or self.batch_size
        return self.map(fn, ((self.rows(X, slice(lo, lo + size)), *args) for lo in range(0, len(X), size)))

    def map(self, fn: Callable, arguments: Iterable[tuple], *, window: int | None = None, gpus: float = 0) -> Iterator:
        """``fn(*args)`` for each tuple of ``arguments``, one Ray task each (one BLAS thread, ``gpus`` GPUs,
        retried if its worker dies), yielded in order. Every task is submitted before the first result is
        awaited, or with ``window``, at most that many are in flight (or done and not yet consumed), so the
        results waiting in the object store stay bounded: a new one is submitted as each is taken."""
        ray = self._connect()
        task = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=TASK_RETRIES, runtime_env=ONE_THREAD)(_run)
        if window is None:
            refs = [task.remote(fn, *args) for args in arguments]
            return (_get(ray, ref) for ref in refs)
        return _windowed(ray, (task.remote(fn, *args) for args in arguments), max(1, window))

    def share(self, obj: Any) -> Any:
        """``obj`` stored once in the object store: pass the answer to many tasks instead of ``obj``
        (a model's weights are then copied to each node once, not once per task)."""
        return self._connect().put(obj)

    def rows(self, X: Any, index: Any) -> Any:
        """``X[index]`` to send to a task or actor: a :class:`FileRows` (read there) when X is memory-mapped."""
        return file_rows(X, index)

    def file_backed(self, X: Any) -> bool:
        """Whether the workers read X's rows from its file (a memory-mapped array) rather than from the
        object store: what makes a pass over X as tasks cheaper than one here."""
        return isinstance(file_rows(X, slice(0, 1)), FileRows)

    def gpus(self) -> int:
        """The cluster's GPUs (0 without any)."""
        return int(self._connect().cluster_resources().get("GPU", 0))

    def parallelism(self) -> int:
        """The cluster's CPUs: how many shards or partitions run at once."""
        return max(1, int(self._connect().cluster_resources().get("CPU", 1)))

    @contextlib.contextmanager
    def actors(self, factory: Callable, arguments: Sequence[tuple]) -> Iterator[Callable]:
        """One actor per tuple of ``arguments``, holding ``factory(*args)``; yields
        ``call(method, args_list, which=None)``, which runs ``method`` on every actor (or the actors
        numbered in ``which``) with its own args at once and returns the answers in order.

        Each actor holds its share of the CPUs (fractional when there are more actors than CPUs, so all
        of them start). An actor's state is lost with its worker, so a dead actor raises
        :class:`quadiv.errors.WorkerLost` (the caller reruns the job, see ``Selector.select``); the
        actors are killed on the way out."""
        ray = self._connect()
        share = min(1.0, self.parallelism() / max(1, len(arguments)))
        Actor = ray.remote(num_cpus=share, max_restarts=0, runtime_env=ONE_THREAD)(_Held)
        actors = [Actor.remote(factory, *args) for args in arguments]

        def call(method: str, args_list: Sequence[tuple], which: Sequence[int] | None = None) -> list:
            chosen = actors if which is None else [actors[k] for k in which]
            return _get(ray, [actor.call.remote(method, *args) for actor, args in zip(chosen, args_list, strict=True)])

        try:
            yield call
        except ray.exceptions.RayActorError as err:
            raise WorkerLost(f"a Ray worker holding part of the job died ({type(err).__name__}); "
                             "check the cluster's nodes and memory, then run it again") from None
        finally:
            for actor in actors:
                ray.kill(actor)

    @contextlib.contextmanager
    def shards(self, X: Any, columns: Sequence[np.ndarray], factory: Callable) -> Iterator[Callable]:
        """One shard of rows per CPU, each ``factory(X_part, *columns_part)`` in an actor, for
        :func:`quadiv.select._shards.sharded_greedy` (SCALE.md pattern B): each step sends the message to
        every shard, and the pick's local index to its owner; answers come back with global indices."""
        ray = self._connect()
        A = np.asarray(X)
        bounds = np.linspace(0, len(A), min(len(A), self.parallelism()) + 1).astype(np.int64)
        parts = [(self.rows(A, slice(lo, hi)), *(np.ascontiguousarray(c[lo:hi]) for c in columns))
                 for lo, hi in itertools.pairwise(bounds)]
        with self.actors(factory, parts) as call:

            def broadcast(message: Any, picked: int | None) -> list[tuple[float, int, float]]:
                owner = -1 if picked is None else int(np.searchsorted(bounds, picked, side="right")) - 1
                note = ray.put(message)
                answers = call("update", [(note, picked - int(bounds[k]) if k == owner else None)
                                          for k in range(len(parts))])
                return [(score, int(bounds[k]) + i, extra) for k, (score, i, extra) in enumerate(answers)]

            yield broadcast

    def connect(self) -> RayEngine:
        """Join (or start) the cluster now, so that an unreachable one is an error before any work."""
        self._connect()
        return self

    def _connect(self):
        ray = require("ray", "ray", "the Ray engine")
        if ray.is_initialized():
            return ray
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR, configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray cluster"
            raise UsageError(f"cannot reach {where}: {str(err).splitlines()[0] if str(err) else type(err).__name__} "
                             "(start one with 'ray start --head', or check --address; to join a cluster with token "
                             "authentication, set RAY_AUTH_MODE=token and its token in ~/.ray/auth_token "
                             "or RAY_AUTH_TOKEN)") from None
        if ray.cluster_resources().get("CPU", 0) < 1:
            where = f"the Ray cluster at {self.address}" if self.address else "the local Ray cluster"
            raise UsageError(f"{where} has no CPU for quadiv's tasks: start its nodes with CPUs "
                             "('ray start --num-cpus N')")
        return ray


def _get(ray, refs):
    """ray.get, with a task's failure as the one-line error it is: the worker's own quadiv error, an
    unreadable input file (InputError), or anything else as a RemoteError."""
    try:
        return ray.get(refs)
    except ray.exceptions.RayTaskError as err:
        cause = err.cause if isinstance(err.cause, BaseException) else None
        if isinstance(cause, QuadivError):
            raise cause from None
        if isinstance(cause, OSError):
            raise InputError(f"a Ray worker cannot read {cause.filename or 'its input'}: {cause.strerror or cause} "
                             "(on a cluster, put the file where every node can read it)") from None
        raise RemoteError(f"a Ray task failed: {type(cause).__name__ if cause else 'error'}: "
                          f"{str(cause or err).splitlines()[0]}") from None


def _windowed(ray, submissions: Iterator, window: int) -> Iterator:
    """The results of lazily submitted tasks in order, with at most ``window`` submitted and not taken."""
    pending = collections.deque(itertools.islice(submissions, window))
    while pending:
        result = _get(ray, pending.popleft())
        pending.extend(itertools.islice(submissions, 1))
        yield result


def _run(fn: Callable, *args) -> Any:
    """fn(*args), in a task (memory-mapped rows read here)."""
    return fn(*resolved(args))


class _Held:
    """An object built by ``factory`` in an actor; ``call`` runs one of its methods (memory-mapped rows
    among the arguments are read here)."""

    def __init__(self, factory: Callable, *args):
        self.held = factory(*resolved(args))

    def call(self, method: str, *args) -> Any:
        return getattr(self.held, method)(*resolved(args))


# An HTTP/2 client's first bytes (the connection preface and an empty SETTINGS frame): a gRPC server, such
# as a Ray head's GCS, answers with its own SETTINGS frame (frame type 4 in byte 3 of the 9-byte header).
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_ADDRESS_FIX = ("check --address: the head node's GCS port (6379 by default, not the dashboard's 8265), "
                "or start a cluster with 'ray start --head'")


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A one-line error now for a host:port that is not a Ray cluster's GCS: nobody listening, no answer,
    or an answer that is not gRPC's (ray.init would retry for many minutes). Skipped under RAY_USE_TLS."""
    if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as connection:
            connection.settimeout(timeout)
            connection.sendall(_HTTP2_PREFACE)
            head = connection.recv(9)
    except TimeoutError:
        raise UsageError(f"the Ray cluster at {address} does not answer (nothing within {timeout:g} s): "
                         f"{_ADDRESS_FIX}") from None
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot reach the Ray cluster at {address}: {err} ({_ADDRESS_FIX})") from None
    if len(head) < 9 or head[3] != 4:
        raise UsageError(f"{address} is not a Ray cluster's GCS port (its answer is not gRPC's): {_ADDRESS_FIX}")
