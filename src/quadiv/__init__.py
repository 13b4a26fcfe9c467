"""quadiv: measure and control the quality-diversity trade-off of ML data and model outputs.

The public API is imported lazily, so ``import quadiv`` stays fast and heavy backends load only
when used.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "read": "quadiv._pool",
    "Pool": "quadiv._pool",
    "write": "quadiv.io",
    "embed": "quadiv.embed",
    "get_embedder": "quadiv.embed",
    "vendi": "quadiv.measure",
    "qvendi": "quadiv.measure",
    "measure": "quadiv.measure",
    "select": "quadiv.select",
    "Selection": "quadiv.select",
    "dedup": "quadiv.select",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'quadiv' has no attribute {name!r}")
