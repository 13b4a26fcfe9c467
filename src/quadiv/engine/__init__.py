"""quadiv.engine: where the work runs; the same numbers on one process or a Ray cluster.

- :class:`LocalEngine` (the default): this process, today's code paths.
- :class:`RayEngine` (``pip install 'quadiv[ray]'``): the one-pass sums of ``measure`` (pattern A of
  SCALE.md: per-batch d x d Grams, column sums, sums of squares) as Ray tasks, added on the driver in
  batch order, so the Vendi of every order, qVendi and mean pairwise distance equal the local ones;
  k-means assignment as tasks over row batches (the cluster family: the local picks); the greedy
  selections k-center, MMR and DPP over row shards held by actors (pattern B: the local picks); and
  facility location over k-means parts held by actors (pattern C: a recorded scheme and guarantee).

Both engines offer ``map(fn, arguments)`` and ``map_batches(fn, X, *args)`` (results in order) and
``actors(factory, arguments)`` (held objects; :func:`quadiv.select._shards.local_actors` here).

``get_engine("ray", address=...)`` picks one by name; ``QUADIV_ENGINE`` sets the default name.
The steps themselves (``measure``, ``select``, ...) never import Ray: engines run their batch functions.
"""
from __future__ import annotations

import os

from quadiv.engine._local import LocalEngine
from quadiv.engine._ray import RayEngine
from quadiv.errors import UsageError

ENGINES = {"local": LocalEngine, "ray": RayEngine}


def get_engine(name: str | None = None, *, address: str | None = None) -> LocalEngine | RayEngine:
    """The engine called ``name`` (default: ``$QUADIV_ENGINE``, else local); ``address`` is a Ray cluster's."""
    name = name or os.environ.get("QUADIV_ENGINE") or "local"
    if name not in ENGINES:
        raise UsageError(f"unknown engine '{name}'; choose one of: {', '.join(ENGINES)}")
    if name == "local":
        if address:
            raise UsageError("--address names a Ray cluster: use it with --engine ray")
        return LocalEngine()
    return RayEngine(address=address)


__all__ = ["ENGINES", "LocalEngine", "RayEngine", "get_engine"]
