"""What a route module names without importing it: the service behind its routes and the types it declares.

Every route module is imported at start-up (Chalice needs the whole route table), but a cold container
answering one route should not import the code of all the others (docs/performance.md, The deployment
package). A route module therefore declares, for the type checker the real imports and at run time
stand-ins that import on first use:

    if TYPE_CHECKING:
        from chalicelib.services import members
        from chalicelib.services.members import Membership
        from chalicelib.services.unit_of_work import on_dynamodb
    else:
        members = lazy.module("chalicelib.services.members")
        Membership = lazy.declared("chalicelib.services.members", "Membership")
        on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

`members.sync(...)` or `on_dynamodb()` in a view imports the module on the first request that calls it.
`Membership` as a route's body, query or response is resolved by `routing` when a request needs it (a
body to parse) or when the OpenAPI document is built; called, it builds an instance. It is not the type
itself: never use it in a Struct's fields (msgspec resolves those in the module's namespace) nor in
`isinstance`. A Struct whose fields need a service's type is declared beside that type.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """A module imported the first time one of its attributes is read."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        return getattr(loaded(self), attribute)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


class Declared:
    """A type a route declares by where it lives; `resolve()` imports it (once)."""

    __slots__ = ("_type", "module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self._type: Any = None

    def resolve(self) -> Any:
        if self._type is None:
            self._type = getattr(importlib.import_module(self.module), self.name)
        return self._type

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """An instance of the type (a view building its answer)."""
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<declared {self.module}.{self.name}>"


class LazyFunction:
    """A function imported on its first call."""

    __slots__ = ("_function", "module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self._function: Any = None

    def resolve(self) -> Any:
        if self._function is None:
            self._function = getattr(importlib.import_module(self.module), self.name)
        return self._function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<function {self.module}.{self.name}, imported on first call>"


def module(name: str) -> Any:
    """`name` (a dotted module path), imported when one of its attributes is first read."""
    return LazyModule(name)


def declared(module: str, name: str) -> Any:
    """The type `name` of `module`, imported when a request or the OpenAPI document first needs it."""
    return Declared(module, name)


def function(module: str, name: str) -> Any:
    """The function `name` of `module`, imported on its first call."""
    return LazyFunction(module, name)


def loaded(lazy_module: LazyModule) -> ModuleType:
    """The module itself, imported now if not yet (a function: a method would hide the module's names)."""
    module = lazy_module._module
    if module is None:
        module = lazy_module._module = importlib.import_module(lazy_module._name)
    return module


def resolve(declared_type: Any) -> Any:
    """The type itself, whether declared by name or given directly."""
    return declared_type.resolve() if isinstance(declared_type, Declared) else declared_type


def stand_ins(namespace: dict[str, Any]) -> dict[str, LazyModule | Declared | LazyFunction]:
    """The names of a module's namespace that stand for something imported on first use."""
    kinds = (LazyModule, Declared, LazyFunction)
    return {name: value for name, value in namespace.items() if isinstance(value, kinds)}
