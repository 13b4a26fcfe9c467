"""One registry type for everything chosen by name: selection methods, strategies, backends, embedders.

An entry is a class (registered under its ``name`` attribute, so ``register`` is a class decorator) or a
factory registered under an explicit name. :meth:`Registry.build` makes one: an unknown name is an
:class:`UnknownNameError` listing the registered names, a parameter the entry lacks a
:class:`ParameterError`. A registry is also a mutable mapping of name -> entry (sorted iteration,
dict-style ``get``), which is what plug-ins and ``monkeypatch.setitem`` in the tests rely on.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, TypeVar

from quadiv._params import Parameter, check_params, describe_params
from quadiv.errors import ParameterError, UnknownNameError

T = TypeVar("T", bound=Callable[..., Any])


class Registry(MutableMapping[str, T]):
    """Named classes or factories of one kind, and building them by name with their parameters.

    ``kind`` names an entry in the unknown-name message ('selection method'); ``short`` names it in
    the parameter messages ('method', default ``kind``); with ``checks_params``, :meth:`build` checks
    the given parameters against the entry's documented constructor parameters
    (:func:`quadiv._params.check_params`) before calling it.
    """

    def __init__(self, kind: str, short: str | None = None, *, checks_params: bool = False) -> None:
        self.kind, self.short, self.checks_params = kind, short or kind, checks_params
        self._entries: dict[str, T] = {}

    def register(self, entry: T, name: str | None = None) -> T:
        """Add ``entry`` under ``name`` (default: its ``name`` attribute) and return it: a class decorator."""
        self._entries[entry.name if name is None else name] = entry
        return entry

    def build(self, name: str, *args: Any, **params: Any) -> Any:
        """``entry(*args, **params)`` for the entry ``name``; a TypeError from it becomes a ParameterError."""
        entry = self.entry(name)
        if self.checks_params:
            check_params(self.short, name, entry, params)
        try:
            return entry(*args, **params)
        except TypeError as err:
            raise ParameterError(f"bad parameter for {self.short} '{name}': {err}") from None

    def entry(self, name: str) -> T:
        """The class or factory registered as ``name``; an UnknownNameError listing the names when none is."""
        if name not in self._entries:
            raise UnknownNameError(f"unknown {self.kind} '{name}'; choose one of: {', '.join(self.names())}")
        return self._entries[name]

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def describe(self, name: str) -> list[Parameter]:
        """The constructor parameters of the entry ``name`` with their meanings (none for a plain factory)."""
        entry = self.entry(name)
        return describe_params(entry) if isinstance(entry, type) else []

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __setitem__(self, name: str, entry: T) -> None:
        self._entries[name] = entry

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
