"""The one Registry type: building by name, its errors, and every registered class public in its package."""
from __future__ import annotations

import importlib
import typing

import pytest

from quadiv._registry import Registry
from quadiv.embed import EMBEDDERS
from quadiv.errors import ParameterError, UnknownNameError
from quadiv.generate import BACKENDS, STRATEGIES
from quadiv.select import SELECTORS


class Pick:
    """A registered test class.

    Parameters:
        k: how many
    """

    name = "pick"

    def __init__(self, k: int = 1):
        self.k = k


def test_build_checks_names_and_parameters() -> None:
    registry: Registry[type[Pick]] = Registry("test method", "method", checks_params=True)
    assert registry.register(Pick) is Pick
    assert registry.build("pick", k=3).k == 3
    assert "pick" in registry and list(registry) == registry.names() == ["pick"] and registry["pick"] is Pick
    assert [(p.name, p.default, p.help) for p in registry.describe("pick")] == [("k", 1, "how many")]
    with pytest.raises(UnknownNameError, match="unknown test method 'nope'; choose one of: pick"):
        registry.build("nope")
    with pytest.raises(ParameterError, match="method 'pick' has no parameter 'j'; its parameters are: k"):
        registry.build("pick", j=1)


def test_a_type_error_from_a_factory_is_a_parameter_error() -> None:
    registry: Registry = Registry("backend")
    registry.register(lambda model, device=None: (model, device), "local")
    assert registry.build("local", "m", device="cpu") == ("m", "cpu")
    assert registry.describe("local") == []
    with pytest.raises(ParameterError, match="bad parameter for backend 'local': "):
        registry.build("local", "m", dtype="x")


@pytest.mark.parametrize(("registry", "package_name"), [(SELECTORS, "quadiv.select"), (STRATEGIES, "quadiv.generate"),
                                                   (BACKENDS, "quadiv.generate")])
def test_every_registered_class_is_public_in_its_package(registry: Registry, package_name: str) -> None:
    package = importlib.import_module(package_name)  # `quadiv.select` and `quadiv.embed` are functions too
    for name, cls in _built_in(registry):
        assert getattr(package, cls.__name__, None) is cls, f"{name}: {cls.__name__} is not in {package.__name__}"
        assert cls.__name__ in package.__all__


def test_every_embedder_class_is_public_in_quadiv_embed() -> None:
    package = importlib.import_module("quadiv.embed")
    for name, factory in _built_in(EMBEDDERS):
        cls = typing.get_type_hints(factory)["return"]
        assert getattr(package, cls.__name__, None) is cls, f"{name}: {cls.__name__} is not in quadiv.embed"
        assert cls.__name__ in package.__all__


def _built_in(registry: Registry) -> list[tuple[str, object]]:
    """The entries quadiv itself registers (other tests add plug-ins of their own)."""
    return [(name, entry) for name, entry in registry.items() if entry.__module__.startswith("quadiv.")]
