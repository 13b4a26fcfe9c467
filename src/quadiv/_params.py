"""Constructor parameters of registered classes (selectors, strategies): listing and checking them."""
from __future__ import annotations

import inspect
from typing import Any

from quadiv.errors import UsageError


def constructor_params(cls: type) -> dict[str, Any]:
    """The keyword parameters of ``cls.__init__`` and their defaults (``inspect.Parameter.empty`` if required)."""
    if cls.__init__ is object.__init__:
        return {}
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return {p.name: p.default for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def describe_params(cls: type) -> str:
    """'name=default, name=default' for `quadiv methods`; '(none)' when the class takes none."""
    params = constructor_params(cls)
    if not params:
        return "(no parameters)"
    return ", ".join(name if default is inspect.Parameter.empty else f"{name}={default!r}"
                     for name, default in params.items())


def check_params(kind: str, name: str, cls: type, given: dict[str, Any]) -> None:
    """UsageError naming the unknown parameters of ``kind`` ``name`` and the valid ones."""
    valid = constructor_params(cls)
    unknown = sorted(set(given) - set(valid))
    if unknown:
        listing = ", ".join(valid) if valid else "none"
        raise UsageError(f"{kind} '{name}' has no parameter {', '.join(unknown)}; its parameters: {listing} "
                         f"(see `quadiv methods`)")
