"""`make_backend`: a backend from a name, a model and user options, each option sent where it belongs."""
from __future__ import annotations

import inspect
from typing import Any

from quadiv.errors import ParameterError, UsageError
from quadiv.generate._base import BACKENDS, Backend, get_backend


def make_backend(name: str, model: str, options: dict[str, Any] | None = None, **common: Any) -> Backend:
    """Build backend ``name`` for ``model`` from its factory's signature.

    ``common`` are the settings every run has (``base_url``, ``concurrency``, ``timeout``,
    ``capabilities``): those the factory takes are passed when not None, and ``base_url`` or
    ``capabilities`` for a factory that takes neither is an error. ``options`` are the user's own
    (``--backend-option``): a name the factory lacks goes into its ``engine_kwargs`` when it has them
    (vllm), else is an error listing the valid names. A factory with ``**kwargs`` gets everything.
    """
    options = dict(options or {})
    if name not in BACKENDS:
        return get_backend(name, model)  # raises the unknown-backend error
    accepted = inspect.signature(BACKENDS[name]).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        for option in ("base_url", "capabilities"):
            if common.get(option) is not None and option not in accepted:
                raise UsageError(f"`{option}` is for `backend` openai; backend '{name}' runs "
                                 "the model itself")
        common = {k: v for k, v in common.items() if k in accepted}
        unknown = {k: v for k, v in options.items() if k not in accepted or k == "model"}
        if unknown and "engine_kwargs" in accepted:
            options = {**{k: v for k, v in options.items() if k not in unknown}, "engine_kwargs": unknown}
        elif unknown:
            valid = ", ".join(k for k in accepted if k != "model")
            raise ParameterError(f"backend '{name}' has no option {', '.join(map(repr, sorted(unknown)))}; its options "
                             f"are: {valid}")
    return get_backend(name, model, **{**{k: v for k, v in common.items() if v is not None}, **options})
