"""The Embedder protocol, the registry of embedders, row normalisation and the cache directory."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from quadiv._registry import Registry
from quadiv.errors import ParameterError, UnknownNameError, UsageError


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into one L2-normalised float32 row each.

    ``name`` is a stable fingerprint of the model and every setting that changes its output; the
    on-disk cache is keyed by it, so two embedders with the same name must give the same vectors.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array, each row of unit L2 norm (rows of empty texts may be zero)."""
        ...


EmbedderFactory = Callable[..., Embedder]
EMBEDDERS: Registry[EmbedderFactory] = Registry("embedder")  # prefix -> factory(arg, **options)


def cache_dir() -> Path:
    """The quadiv cache directory: ``$QUADIV_CACHE`` if set, else the user cache dir + ``/quadiv``."""
    env = os.environ.get("QUADIV_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("quadiv"))


def model_fingerprint(path: Path) -> str:
    """12 hex digits identifying a model file or directory: its config's bytes, its files' sizes and mtimes.

    Cheap (no weight is read); retraining or replacing any file changes it, so cached results are not reused.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for f in files:
        stat = f.stat()
        digest.update(f"{f.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    if (path / "config.json").is_file():
        digest.update((path / "config.json").read_bytes())
    return digest.hexdigest()[:12]


def normalize_rows(X: np.ndarray) -> np.ndarray:
    """Scale each row of X to unit L2 norm in place (zero rows stay zero) and return X as float32.

    x_i <- x_i / ||x_i||_2, computed in float64 for the norm.
    """
    # not geometry.unit_rows: in place (embedder output and precomputed blocks are not copied) and
    # every row divided, so the embeddings and their caches keep their bits
    X = np.asarray(X, dtype=np.float32)
    if not X.flags.writeable:
        X = X.copy()
    norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
    norms[norms == 0] = 1.0
    X /= norms[:, None].astype(np.float32)
    return X


def register_embedder(prefix: str, factory: EmbedderFactory) -> None:
    """Make ``get_embedder("<prefix>")`` or ``get_embedder("<prefix>:<arg>")`` call ``factory``.

    The factory is called as ``factory(arg, **options)`` where ``arg`` is the text after the first
    colon of the spec (None when there is none) and returns an :class:`Embedder`.
    """
    if not prefix or ":" in prefix:
        raise UsageError(f"an embedder prefix must be a non-empty word without ':', got {prefix!r}")
    EMBEDDERS.register(factory, prefix)


def available_embedders() -> list[str]:
    """The registered prefixes, sorted."""
    return EMBEDDERS.names()


def get_embedder(spec: str = "static", **options) -> Embedder:
    """Build the embedder named by ``spec``: ``static``, ``minilm``, ``st:<path>``, ``openai:<model>``,
    ``grad:<path>``, or a plug-in."""
    prefix, _, arg = spec.partition(":")
    if prefix not in EMBEDDERS:
        raise UnknownNameError(
            f"unknown embedder '{spec}'; choose one of: static, minilm, st:<model dir>, openai:<model>, "
            "grad:<causal LM dir>"
            + "".join(
                f", {p}" for p in available_embedders() if p not in {"static", "minilm", "st", "openai", "grad"}
            )
        )
    try:
        return EMBEDDERS[prefix](arg or None, **options)
    except TypeError as err:
        raise ParameterError(f"bad option for embedder '{spec}': {err}") from None


def quiet_transformers() -> None:
    """Silence transformers' weight-loading progress bars and info logs (the CLI owns stderr)."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()
