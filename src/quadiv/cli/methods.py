"""`quadiv methods`: the selection methods and generation strategies with their parameters."""
from __future__ import annotations

import inspect


def methods_command() -> None:
    """List the selection methods and generation strategies with their parameters (--param NAME=VALUE)."""
    from quadiv._params import params_line
    from quadiv.generate import REQUIRED, STRATEGIES
    from quadiv.select import SELECTORS

    print("selection methods (quadiv select --method M --param NAME=VALUE):")
    for name in sorted(SELECTORS):
        cls = SELECTORS[name]
        print(f"  {name:18s} {_summary(cls)}")
        print(f"  {'':18s} parameters: {params_line(cls)}")
    print("\ngeneration strategies (quadiv generate --strategy S --param NAME=VALUE):")
    for name in sorted(STRATEGIES):
        cls = STRATEGIES[name]
        print(f"  {name:18s} {_summary(cls)}")
        for p in cls.describe():
            default = "required" if p.default is REQUIRED else f"default {p.default!r}"
            print(f"  {'':18s}   {p.name} ({default}): {p.help}")


def _summary(cls: type) -> str:
    """The first line of a class's docstring, or nothing."""
    doc = (inspect.getdoc(cls) or "").splitlines()
    return doc[0] if doc else ""
