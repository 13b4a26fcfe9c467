"""The one check for optional dependencies: import a module, or say which extra of quadiv installs it.

Every extra named here is one that ``pyproject.toml`` declares (``embed``, ``hf``, ``report``, ``vllm``,
``heuristic``, ``models``, ``fasttext``);
``None`` marks a core dependency, whose absence means the installation itself is incomplete
(tests/test_install_hints.py checks every call).
"""
from __future__ import annotations

import importlib
from types import ModuleType

from quadiv.errors import MissingDependencyError


def require(module: str, extra: str | None, purpose: str, *, package: str | None = None) -> ModuleType:
    """``module`` imported, else MissingDependencyError: "<purpose> needs the '<package>' package: pip ...".

    ``package`` is the name to install; without it, the name of the module that failed to import.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(package or err.name or module, extra, purpose) from None
