"""``Section``: one part's settings, its registered ``name`` and its options, read as attributes.

``config.model.prior.components`` reads the option ``components`` of the prior section of the model
section. A section is immutable; a changed config is a new one (``Config.override``, ``Config.replace``).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping


class Section(Mapping[str, Any]):
    """An immutable mapping of option names to values (parts nested as Sections) with attribute access.

    >>> Section(name="mog", components=5).components
    5
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] = (), /, **more: Any):
        object.__setattr__(self, "_values", {**dict(values), **more})

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            known = ", ".join(self._values)
            raise AttributeError(f"this section has no option {key!r}; it has: {known}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("a config section is immutable; use Config.replace or Config.override")

    def __repr__(self) -> str:
        return f"Section({self._values!r})"

    @property
    def options(self) -> dict[str, Any]:
        """Everything but ``name``: the keyword arguments of the registered part."""
        return {key: value for key, value in self._values.items() if key != "name"}

    def to_dict(self) -> dict[str, Any]:
        """Plain values for YAML and JSON: nested dicts, tuples as lists."""
        return {key: plain(value) for key, value in self._values.items()}


def plain(value: Any) -> Any:
    """``value`` with Sections and mappings as dicts and tuples as lists (YAML and JSON)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    return value


def part(name: str, **options: Any) -> Section:
    """The default of a part option in a signature: ``trunk: Trunk = part("mlp")``."""
    return Section(name=name, **options)
