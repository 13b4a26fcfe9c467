"""`quadiv methods`: every registered selection method, strategy, backend, embedder and scorer with its parameters."""
from __future__ import annotations

import inspect

from quadiv._params import REQUIRED, params_line
from quadiv._registry import Registry


def methods_command() -> None:
    """List the selection methods, generation strategies, backends, embedders and scorers from their registries."""
    from quadiv.cli._common import as_flags
    from quadiv.embed import EMBEDDERS
    from quadiv.generate import BACKENDS, STRATEGIES
    from quadiv.measure import FAMILIES, METRICS
    from quadiv.quality import SCORERS, scorer_spec
    from quadiv.select import SELECTORS

    print("selection methods (quadiv select --method M --param NAME=VALUE):")
    _list_parameters_line(SELECTORS)
    print("\ngeneration strategies (quadiv generate --strategy S --param NAME=VALUE):")
    for name, cls in STRATEGIES.items():
        print(f"  {name:18s} {_summary(cls)}")
        for p in STRATEGIES.describe(name):
            default = "required" if p.default is REQUIRED else f"default {p.default!r}"
            print(f"  {'':18s}   {p.name} ({default}): {p.help}")
    print("\ngeneration backends (quadiv generate --backend B --model M --backend-option NAME=VALUE):")
    _list_parameters_line(BACKENDS)
    print("\nmetrics (quadiv measure --metrics M1,M2; front --objectives M:max):")
    for name, metric in METRICS.items():
        print(f"  {name:24s} {metric.description} [needs {as_flags(metric.input_text)}]")
    for name, build in FAMILIES.items():
        print(f"  {name:24s} the family: {name.split('_')[0]} of any {name.split('<')[1].rstrip('>')}")
    from quadiv.search import ALGORITHMS, EMITTERS

    print("\nsearch algorithms (quadiv search --config SEARCH.toml: algorithm = A; quadiv search --example NAME):")
    for name, settings in ALGORITHMS.items():
        print(f"  {name:18s} {settings['about']}")
    print("search emitters ([mutator] emitter = E):")
    for name, cls in EMITTERS.items():
        print(f"  {name:18s} {_summary(cls)}")
    print("\nembedders (--embedder E):")
    for name, factory in EMBEDDERS.items():
        print(f"  {name:18s} {_summary(factory)}")
    print("\nquality scorers (quadiv score --scorer S --param NAME=VALUE; --quality S on measure, select, front):")
    for name, cls in SCORERS.items():
        print(f"  {scorer_spec(name):18s} {_summary(cls)}")
        print(f"  {'':18s} parameters: {params_line(SCORERS.describe(name))}")


def _list_parameters_line(registry: Registry) -> None:
    """Each entry of ``registry`` with its summary, then its parameters on one line."""
    for name, entry in registry.items():
        print(f"  {name:18s} {_summary(entry)}")
        print(f"  {'':18s} parameters: {params_line(registry.describe(name))}")


def _summary(entry: object) -> str:
    """The first line of a class's or factory's docstring, or nothing."""
    doc = (inspect.getdoc(entry) or "").splitlines()
    return doc[0] if doc else ""
