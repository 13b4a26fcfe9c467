"""Constructor parameters of registered classes (selectors, strategies): describing and checking them.

A class's parameters are its constructor's keyword arguments; a constructor that takes ``**params``
passes them on to its base class's, whose parameters follow. Their meanings come from a
``Parameters:`` block in a class docstring (one ``    name: meaning`` line each, continuation lines
indented further), the nearest class in the MRO that documents a name winning.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any

from quadiv.errors import ParameterError

REQUIRED = inspect.Parameter.empty  # the default of a parameter that has none
_HEADING = "Parameters:"
_LINE = re.compile(r"^    (\w+): (.*)$")


@dataclass(frozen=True)
class Parameter:
    """One constructor parameter: name, default (``REQUIRED`` when none) and meaning ('' if undocumented)."""

    name: str
    default: Any
    help: str


def describe_params(cls: type) -> list[Parameter]:
    """The parameters of ``cls``, in signature order, with their documented meanings."""
    helps: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        helps.update(_documented(klass.__dict__.get("__doc__")))
    found: dict[str, Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        passes_on = False
        for p in list(inspect.signature(init).parameters.values())[1:]:
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                passes_on = True
            elif p.kind is not inspect.Parameter.VAR_POSITIONAL:
                found.setdefault(p.name, Parameter(p.name, p.default, helps.get(p.name, "")))
        if not passes_on:
            break
    return list(found.values())


def params_line(params: list[Parameter]) -> str:
    """'name=default, name=default' for `quadiv methods`; '(no parameters)' when there are none."""
    if not params:
        return "(no parameters)"
    return ", ".join(p.name if p.default is REQUIRED else f"{p.name}={p.default!r}" for p in params)


def check_params(kind: str, name: str, cls: type, given: dict[str, Any]) -> None:
    """ParameterError naming the parameters of ``kind`` ``name`` that ``cls`` lacks, and the valid ones."""
    valid = [p.name for p in describe_params(cls)]
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise ParameterError(f"{kind} '{name}' has no parameter {', '.join(map(repr, unknown))}; its parameters "
                         f"are: {', '.join(valid) or 'none'} (see `quadiv methods`)")


def _documented(doc: str | None) -> dict[str, str]:
    """{name: meaning} from a docstring's ``Parameters:`` block."""
    lines = inspect.cleandoc(doc or "").splitlines()
    if _HEADING not in lines:
        return {}
    found: dict[str, str] = {}
    for line in lines[lines.index(_HEADING) + 1:]:
        m = _LINE.match(line)
        if m:
            found[m.group(1)] = m.group(2).strip()
        elif line.startswith("        ") and found:  # a continuation line
            last = next(reversed(found))
            found[last] += " " + line.strip()
        else:
            break
    return found
