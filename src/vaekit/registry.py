"""One registry per extension point: parts register by name next to their definition."""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from .errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> factory table with an error that lists the known names.

    >>> LIKELIHOODS = Registry("likelihood")
    >>> @LIKELIHOODS.register("bernoulli")
    ... class Bernoulli: ...
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._facts: dict[str, dict[str, Any]] = {}

    def register(self, name: str, **facts: Any) -> Callable[[T], T]:
        """Register under ``name``; ``facts`` are plain values other code asks about the entry by name
        before building it (a model's default objective)."""
        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name], self._facts[name] = entry, facts
            return entry

        return add

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests that register a part of their own take it out again)."""
        self._entries.pop(name, None)
        self._facts.pop(name, None)

    def facts(self, name: str) -> dict[str, Any]:
        """The facts ``name`` was registered with (a UserError listing the known names if unknown)."""
        self.get(name)
        return self._facts[name]

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise UserError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def values(self) -> list[T]:
        """The entries in the order they were registered (the order tables show them in)."""
        return list(self._entries.values())

    def unregister(self, name: str) -> T:
        """Remove ``name`` (a test's own entry, once the test is done); returns its entry."""
        return self._entries.pop(name)

    def __contains__(self, name: str) -> bool:
        return name in self._entries
