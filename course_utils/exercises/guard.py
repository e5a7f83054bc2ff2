"""Keep an exercise's reference implementations out of the student's reach while the answer runs.

An exercise names what its answer must not call (``forbidden``): the library's own implementation
of the algorithm and the reference packages behind it, as ``"module:attribute"`` (one function or
class) or ``"module"`` (a whole package, e.g. ``"maxflow"``). While the student's function runs,
each of them is replaced by a tripwire

* wherever a loaded module or the student's namespace holds it (a name the notebook imported, a
  module attribute such as ``flow_network.pymaxflow_max_flow``, a re-export in a package), and
* in ``sys.modules`` for a whole package, so an ``import maxflow`` inside the function finds the
  tripwire too.

Touching a tripwire raises :class:`Delegated` ("write it yourself: your answer calls
pymaxflow_max_flow"), a ``BaseException`` so that a broad ``except Exception`` in the answer cannot
swallow it; the guard also remembers the touch, so an answer that swallows even that still fails.
Everything is put back when the call returns. The check's own reference computation runs outside
the answer's calls and is not affected.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Delegated", "Guard", "guarded"]


class Delegated(BaseException):
    """Raised when the answer reaches a forbidden implementation (not an ``Exception``: not swallowable)."""


def _label(ref: str) -> str:
    return ref.split(":", 1)[1] if ":" in ref else ref


def _resolve(ref: str) -> tuple[object, str]:
    """The object ``ref`` names (``"module:attr"`` or ``"module"``) and its label for messages."""
    if not isinstance(ref, str) or not ref or ref.count(":") > 1:
        raise ValueError(f"forbidden entries must be 'module:attribute' or 'module' strings, got {ref!r}")
    module_name, _, attr = ref.partition(":")
    module = importlib.import_module(module_name)
    if not attr:
        return module, module_name
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"forbidden entry {ref!r}: {module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj, _label(ref)


class _TripwireModule(types.ModuleType):
    """Stands in for a forbidden package in ``sys.modules`` and in namespaces."""

    def __init__(self, name: str, guard: "Guard") -> None:
        super().__init__(name)
        self.__dict__["_guard"] = guard

    def __getattr__(self, item: str):
        self.__dict__["_guard"]._touched(self.__name__)


@dataclass
class Guard:
    """The forbidden objects of one exercise and the places that hold them (found once per check)."""

    forbidden: Sequence[str]
    _objects: dict[int, tuple[object, str]] = field(default_factory=dict, init=False)
    _modules: dict[str, str] = field(default_factory=dict, init=False)
    _module_places: list[tuple[dict, str, object]] | None = field(default=None, init=False)
    touched: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        for ref in self.forbidden:
            obj, label = _resolve(ref)
            self._objects[id(obj)] = (obj, label)
            if isinstance(obj, types.ModuleType):
                self._modules[obj.__name__] = label

    def _touched(self, label: str):
        self.touched.append(label)
        raise Delegated(f"write it yourself: your answer calls {label}")

    def _tripwire(self, obj: object, label: str) -> object:
        if isinstance(obj, types.ModuleType):
            return _TripwireModule(obj.__name__, self)

        def tripwire(*args, **kwargs):
            self._touched(label)

        tripwire.__name__ = getattr(obj, "__name__", label)
        return tripwire

    def _places(self, extra: Sequence[dict]) -> list[tuple[dict, str, object]]:
        """Every (namespace, name, object) where a loaded module or ``extra`` holds a forbidden object.

        The loaded modules are scanned once per guard (a check's calls share it); ``extra`` (the
        answer's own namespaces) on every call.
        """
        if self._module_places is None:
            spaces = [vars(m) for m in list(sys.modules.values())
                      if m is not None and not isinstance(m, _TripwireModule)]
            self._module_places = self._scan(spaces)
        module_spaces = {id(space) for space, _, _ in self._module_places}
        return self._module_places + [p for p in self._scan(extra) if id(p[0]) not in module_spaces]

    def _scan(self, spaces: Sequence[dict]) -> list[tuple[dict, str, object]]:
        found = []
        seen: set[int] = set()
        for space in spaces:
            if id(space) in seen:
                continue
            seen.add(id(space))
            try:
                items = list(space.items())
            except (RuntimeError, AttributeError):  # a namespace that changes while read, or not a dict
                continue
            for name, value in items:
                hit = self._objects.get(id(value))
                if hit is not None and hit[0] is value:
                    found.append((space, name, value))
        return found

    def call(self, func: Callable, args: tuple, kwargs: dict, namespaces: Sequence[dict] = ()):
        """Call ``func(*args, **kwargs)`` with every forbidden object replaced by a tripwire."""
        places = self._places(namespaces)
        patched: list[tuple[dict, str, object]] = []
        saved_modules: dict[str, object] = {}
        try:
            for space, name, value in places:
                space[name] = self._tripwire(value, self._objects[id(value)][1])
                patched.append((space, name, value))
            for module_name in self._modules:
                for key in [k for k in sys.modules if k == module_name or k.startswith(module_name + ".")]:
                    saved_modules[key] = sys.modules[key]
                    sys.modules[key] = _TripwireModule(key, self)
            result = func(*args, **kwargs)
        finally:
            for space, name, value in reversed(patched):
                space[name] = value
            sys.modules.update(saved_modules)
        if self.touched:
            raise Delegated(f"write it yourself: your answer calls {self.touched[0]}")
        return result


def _namespaces(answer: object) -> list[dict]:
    """The global namespaces the answer's code looks names up in (its own and its methods')."""
    spaces = []
    funcs = [answer]
    if isinstance(answer, type):
        funcs = [v for v in vars(answer).values() if callable(v)]
    for f in funcs:
        f = getattr(f, "__func__", f)
        g = getattr(f, "__globals__", None)
        if isinstance(g, dict):
            spaces.append(g)
    return spaces


def guarded(answer: object, forbidden: Sequence[str]) -> object:
    """``answer`` (a function or a class) wrapped so that every call runs under a :class:`Guard`.

    A class answer is guarded through its methods: each call of a method (``forward`` included)
    runs under the guard, as does its construction. Objects that are not callable are returned as
    they are.
    """
    if not forbidden or not callable(answer):
        return answer
    guard = Guard(tuple(forbidden))
    spaces = _namespaces(answer)

    if isinstance(answer, type):
        overrides = {}
        for name, value in vars(answer).items():
            if isinstance(value, types.FunctionType):
                overrides[name] = _guard_method(value, guard, spaces)
        return type(answer.__name__, (answer,), overrides)

    @functools.wraps(answer)
    def run(*args, **kwargs):
        return guard.call(answer, args, kwargs, spaces)

    run.guard = guard  # type: ignore[attr-defined]
    return run


def _guard_method(method: Callable, guard: Guard, spaces: Sequence[dict]) -> Callable:
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        if getattr(_active, "depth", 0):  # a method called from a guarded method: already guarded
            return method(self, *args, **kwargs)
        _active.depth = 1
        try:
            return guard.call(method, (self, *args), kwargs, spaces)
        finally:
            _active.depth = 0

    return run


class _Active:
    depth = 0


_active = _Active()
