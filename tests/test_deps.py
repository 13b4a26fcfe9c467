"""require(): import an optional dependency, or name the package and the extra that installs it."""
from __future__ import annotations

import json
import sys

import pytest

from quadiv._deps import require
from quadiv.errors import MissingDependencyError


def test_an_installed_module_is_returned():
    assert require("json", "report", "reading") is json


def test_a_missing_module_names_the_package_and_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"^PNG figures needs the 'matplotlib' package: "
                                                     r"pip install 'quadiv\[report\]'$"):
        require("matplotlib", "report", "PNG figures")


def test_the_package_to_install_may_differ_from_the_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(MissingDependencyError, match="'faiss-cpu' package, which quadiv depends on"):
        require("faiss", None, "k-NN", package="faiss-cpu")
