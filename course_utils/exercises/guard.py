"""Keep an exercise's reference implementations out of the student's reach while the answer runs.

An exercise names what its answer must not call (``forbidden``): the library's own implementation
of the algorithm and the reference packages behind it, as ``"module:attribute"`` (a function or a
class; ``"module:Class.method"`` for one method) or ``"module"`` (a whole package, e.g.
``"maxflow"``). While the student's code runs, each of them is replaced by a tripwire

* wherever a loaded module holds it: a module attribute such as ``flow_network.pymaxflow_max_flow``,
  a re-export in a package, a name another module imported, so that an import inside the function
  (``from course_utils.graphcut.flow_network import pymaxflow_max_flow``) finds the tripwire too;
* wherever the answer itself holds it: the notebook's namespace (a name the notebook imported),
  the cells of a closure, default argument values;
* in ``sys.modules`` for a whole package and its submodules, so an ``import maxflow`` inside the
  function gets the tripwire.

The answer may be a function, a class (an ``nn.Module``: its construction and every call of a
method it defines, ``forward`` included, run under the guard) or a callable object (its class's
methods are guarded the same way for as long as the check runs).

Touching a tripwire raises :class:`Delegated` ("write it yourself: your answer calls
pymaxflow_max_flow"), a ``BaseException`` so that a broad ``except Exception`` in the answer cannot
swallow it; the guard also remembers the touch (:attr:`Guard.touched`), so an answer that swallows
even that still fails. Everything is put back when the call returns or raises. The loaded modules
are scanned once per guard (one guard serves a whole check); the check's own reference computation
runs between the answer's calls and is not affected.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from collections.abc import Callable, Sequence

__all__ = ["Delegated", "Guard", "guarded"]


class Delegated(BaseException):
    """Raised when the answer reaches a forbidden implementation (not an ``Exception``: not swallowable)."""


def _label(ref: str) -> str:
    return ref.split(":", 1)[1] if ":" in ref else ref


def _resolve(ref: str) -> tuple[object, str, object | None, str | None]:
    """``(object, label, owner, attribute)`` for ``ref``; ``owner`` is the class of a ``"module:Class.attr"``."""
    if not isinstance(ref, str) or not ref or ref.count(":") > 1:
        raise ValueError(f"forbidden entries must be 'module:attribute' or 'module' strings, got {ref!r}")
    module_name, _, attr = ref.partition(":")
    module = importlib.import_module(module_name)
    if not attr:
        return module, module_name, None, None
    obj, owner, part = module, None, None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"forbidden entry {ref!r}: {module_name} has no attribute {attr!r}")
        owner, obj = obj, getattr(obj, part)
    if isinstance(owner, type):
        return obj, _label(ref), owner, part
    return obj, _label(ref), None, None


class _TripwireModule(types.ModuleType):
    """Stands in for a forbidden package in ``sys.modules`` and in namespaces."""

    def __init__(self, name: str, guard: "Guard", label: str) -> None:
        super().__init__(name)
        self.__dict__["_guard"] = guard
        self.__dict__["_label"] = label

    def __getattr__(self, item: str):
        self.__dict__["_guard"]._touched(self.__dict__["_label"])


class _TripwireType(type):
    """The metaclass of a forbidden class's stand-in: constructing it or reading its attributes trips it.

    ``isinstance`` and ``issubclass`` still answer for the real class, so library code that only
    tests types keeps working.
    """

    def __call__(cls, *args, **kwargs):
        cls._segcourse_guard._touched(cls._segcourse_label)

    def __getattr__(cls, item: str):
        if item.startswith("_segcourse_"):
            raise AttributeError(item)
        cls._segcourse_guard._touched(cls._segcourse_label)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, cls._segcourse_original)

    def __subclasscheck__(cls, sub) -> bool:
        return issubclass(sub, cls._segcourse_original)


# A place that holds a forbidden object: (kind, container, key); kinds "item" (container[key]),
# "attr" (setattr), "cell" (a closure cell), "defaults" / "kwdefaults" (a function's defaults).
_Place = tuple[str, object, object]


class Guard:
    """The forbidden objects of one exercise and the places that hold them (loaded modules scanned once).

    Parameters
    ----------
    forbidden : sequence of str
        ``"module:attribute"``, ``"module:Class.attribute"`` or ``"module"`` entries; each is
        imported and checked when the guard is made (a ValueError names a wrong one).
    """

    def __init__(self, forbidden: Sequence[str]) -> None:
        self.forbidden = tuple(forbidden)
        self.touched: list[str] = []
        self._objects: dict[int, tuple[object, str]] = {}
        self._modules: dict[str, str] = {}
        self._class_places: list[tuple[_Place, object]] = []
        self._labels: dict[tuple[int, str], str] = {}
        self._module_places: list[tuple[_Place, object]] | None = None
        self._depth = 0
        for ref in self.forbidden:
            obj, label, owner, attr = _resolve(ref)
            self._objects[id(obj)] = (obj, label)
            if owner is not None:  # a method: patched on its class (``vars`` keeps a staticmethod as it is)
                self._class_places.append((("attr", owner, attr), vars(owner).get(attr, obj)))
                self._labels[id(owner), attr] = label
            if isinstance(obj, types.ModuleType):
                self._modules[obj.__name__] = label
                prefix = obj.__name__ + "."
                for key, sub in list(sys.modules.items()):  # its loaded submodules, wherever held
                    if key.startswith(prefix) and isinstance(sub, types.ModuleType):
                        self._objects.setdefault(id(sub), (sub, label))

    # -- tripwires ---------------------------------------------------------------------------
    def _touched(self, label: str):
        self.touched.append(label)
        raise Delegated(f"write it yourself: your answer calls {label}")

    def _tripwire(self, obj: object, label: str) -> object:
        if isinstance(obj, types.ModuleType):
            return _TripwireModule(obj.__name__, self, label)
        if isinstance(obj, type):
            return _TripwireType(obj.__name__, (), {"_segcourse_guard": self, "_segcourse_label": label,
                                                     "_segcourse_original": obj, "__module__": obj.__module__,
                                                     "__qualname__": obj.__qualname__})
        guard = self

        def tripwire(*args, **kwargs):
            guard._touched(label)

        tripwire.__name__ = getattr(obj, "__name__", label)
        tripwire.__qualname__ = getattr(obj, "__qualname__", label)
        return tripwire

    # -- where the forbidden objects are ---------------------------------------------------------
    def _hit(self, value: object) -> bool:
        entry = self._objects.get(id(value))
        return entry is not None and entry[0] is value

    def _scan_dicts(self, spaces: Sequence[dict]) -> list[tuple[_Place, object]]:
        found, seen = [], set()
        for space in spaces:
            if id(space) in seen or not isinstance(space, dict):
                continue
            seen.add(id(space))
            try:
                items = list(space.items())
            except RuntimeError:  # a namespace that changes while read
                continue
            found += [(("item", space, name), value) for name, value in items if self._hit(value)]
        return found

    def _loaded_module_places(self) -> list[tuple[_Place, object]]:
        if self._module_places is None:
            spaces = [vars(m) for m in list(sys.modules.values())
                      if isinstance(m, types.ModuleType) and not isinstance(m, _TripwireModule)]
            self._module_places = self._scan_dicts(spaces)
        return self._module_places

    def _function_places(self, funcs: Sequence[Callable]) -> list[tuple[_Place, object]]:
        """Closure cells and defaults of ``funcs`` and of the functions their closures hold (recursively)."""
        found: list[tuple[_Place, object]] = []
        seen: set[int] = set()
        stack = list(funcs)
        while stack:
            f = stack.pop()
            f = getattr(f, "__func__", f)
            if not isinstance(f, types.FunctionType) or id(f) in seen:
                continue
            seen.add(id(f))
            for cell in f.__closure__ or ():
                try:
                    value = cell.cell_contents
                except ValueError:  # an empty cell (a name assigned later)
                    continue
                if self._hit(value):
                    found.append((("cell", cell, None), value))
                elif isinstance(value, (types.FunctionType, types.MethodType)):
                    stack.append(value)
            if f.__defaults__ and any(self._hit(v) for v in f.__defaults__):
                found.append((("defaults", f, None), f.__defaults__))
            if f.__kwdefaults__ and any(self._hit(v) for v in f.__kwdefaults__.values()):
                found.append((("kwdefaults", f, None), f.__kwdefaults__))
        return found

    def _set(self, place: _Place, value: object) -> None:
        kind, container, key = place
        if kind == "item":
            container[key] = value  # type: ignore[index]
        elif kind == "attr":
            setattr(container, key, value)  # type: ignore[arg-type]
        elif kind == "cell":
            container.cell_contents = value  # type: ignore[attr-defined]
        elif kind == "defaults":
            container.__defaults__ = value  # type: ignore[attr-defined]
        else:
            container.__kwdefaults__ = value  # type: ignore[attr-defined]

    def _tripped(self, place: _Place, original: object) -> object:
        kind = place[0]
        if kind == "defaults":
            return tuple(self._wire(v) for v in original)  # type: ignore[union-attr]
        if kind == "kwdefaults":
            return {k: self._wire(v) for k, v in original.items()}  # type: ignore[union-attr]
        if isinstance(original, (staticmethod, classmethod)):  # a forbidden "module:Class.method"
            return type(original)(self._tripwire(original.__func__, self._labels[id(place[1]), place[2]]))
        if kind == "attr":
            return self._tripwire(original, self._labels[id(place[1]), place[2]])
        return self._wire(original)

    def _wire(self, value: object) -> object:
        """The tripwire for ``value`` if it is forbidden, else ``value``."""
        return self._tripwire(value, self._objects[id(value)][1]) if self._hit(value) else value

    # -- running the answer --------------------------------------------------------------------
    def call(self, func: Callable, args: tuple = (), kwargs: dict | None = None, namespaces: Sequence[dict] = (),
             functions: Sequence[Callable] = ()):
        """Call ``func(*args, **kwargs)`` with every forbidden object replaced by a tripwire.

        ``namespaces`` are the answer's global namespaces and ``functions`` the functions whose
        closures and defaults to search (both default to ``func``'s). A call made while the guard is
        already in force (a guarded method calling another, a recursive answer) runs as it is.
        """
        kwargs = kwargs or {}
        if self._depth:
            return func(*args, **kwargs)
        if not namespaces:
            namespaces = _namespaces(func)
        if not functions:
            functions = [func]
        places = list(self._loaded_module_places())
        known = {(id(p[1]), p[2]) for p, _ in places}
        places += [(p, v) for p, v in self._scan_dicts(namespaces) if (id(p[1]), p[2]) not in known]
        places += self._function_places(functions) + self._class_places
        patched: list[tuple[_Place, object]] = []
        saved_modules: dict[str, object] = {}
        self._depth += 1
        try:
            for place, original in places:
                self._set(place, self._tripped(place, original))
                patched.append((place, original))
            for module_name, label in self._modules.items():
                for key in [k for k in sys.modules if k == module_name or k.startswith(module_name + ".")]:
                    saved_modules[key] = sys.modules[key]
                    sys.modules[key] = _TripwireModule(key, self, label)
            result = func(*args, **kwargs)
        finally:
            self._depth -= 1
            for place, original in reversed(patched):
                self._set(place, original)
            for module_name in self._modules:  # modules the answer imported anew under a forbidden name
                for key in [k for k in sys.modules if (k == module_name or k.startswith(module_name + "."))
                            and k not in saved_modules and isinstance(sys.modules[k], _TripwireModule)]:
                    del sys.modules[key]
            sys.modules.update(saved_modules)
        if self.touched:
            raise Delegated(f"write it yourself: your answer calls {self.touched[0]}")
        return result


def _functions(answer: object) -> list[Callable]:
    """The plain functions that make up ``answer``: itself, or the methods of its class(es)."""
    if isinstance(answer, types.FunctionType):
        return [answer]
    if isinstance(answer, types.MethodType):
        return _functions(answer.__func__)
    if isinstance(answer, functools.partial):
        return _functions(answer.func)
    if isinstance(answer, types.BuiltinFunctionType):
        return []
    cls = answer if isinstance(answer, type) else type(answer)
    funcs = []
    for klass in _own_classes(cls):
        for value in vars(klass).values():
            value = getattr(value, "__func__", value)
            if isinstance(value, types.FunctionType):
                funcs.append(value)
            elif isinstance(value, property):
                funcs += [f for f in (value.fget, value.fset, value.fdel) if f is not None]
    return funcs


def _own_classes(cls: type) -> list[type]:
    """``cls`` and the bases written beside it (same module), not the library's or torch's classes."""
    return [k for k in cls.__mro__ if k is cls or (k.__module__ == cls.__module__ and k is not object)]


def _namespaces(answer: object) -> list[dict]:
    """The global namespaces the answer's code looks names up in (its own and its methods')."""
    spaces, seen = [], set()
    for f in _functions(answer):
        g = getattr(f, "__globals__", None)
        if isinstance(g, dict) and id(g) not in seen:
            seen.add(id(g))
            spaces.append(g)
    return spaces


def guarded(answer: object, forbidden: Sequence[str] | Guard) -> object:
    """``answer`` wrapped so that every call runs under a :class:`Guard`.

    Parameters
    ----------
    answer : function, class or callable object
        A function is wrapped. A class is subclassed: its construction and each method it (or a
        base written beside it) defines run under the guard. A callable object (an ``nn.Module``
        instance) is returned as a :class:`GuardedObject` proxy whose calls and method calls run
        under the guard. Anything not callable is returned as it is (the check says so).
    forbidden : sequence of str or Guard
        The exercise's forbidden list, or a guard made from it (to read its ``touched`` afterwards).
    """
    guard = forbidden if isinstance(forbidden, Guard) else Guard(tuple(forbidden))
    if not guard.forbidden or not callable(answer):
        return answer
    spaces, funcs = _namespaces(answer), _functions(answer)

    def under_guard(method: Callable) -> Callable:
        @functools.wraps(method)
        def run(*args, **kwargs):
            return guard.call(method, args, kwargs, spaces, funcs)

        return run

    if isinstance(answer, (types.FunctionType, types.MethodType, types.BuiltinFunctionType, functools.partial)):
        run = under_guard(answer)
        run.guard = guard  # type: ignore[attr-defined]
        return run
    if isinstance(answer, type):
        overrides: dict[str, object] = {}
        for klass in reversed(_own_classes(answer)):
            for name, value in vars(klass).items():
                if isinstance(value, types.FunctionType):
                    overrides[name] = under_guard(value)
                elif isinstance(value, staticmethod) and isinstance(value.__func__, types.FunctionType):
                    overrides[name] = staticmethod(under_guard(value.__func__))
                elif isinstance(value, classmethod) and isinstance(value.__func__, types.FunctionType):
                    overrides[name] = classmethod(under_guard(value.__func__))
        overrides["__qualname__"] = answer.__qualname__
        overrides["__module__"] = answer.__module__
        overrides["__doc__"] = answer.__doc__
        cls = type(answer)(answer.__name__, (answer,), overrides)
        cls.guard = guard  # type: ignore[attr-defined]
        return cls
    return GuardedObject(answer, guard, spaces, funcs)


class GuardedObject:
    """A callable object (an ``nn.Module`` instance) seen through the guard: calls and method calls guarded.

    Attribute reads other than methods (parameters, buffers, sub-modules) pass through unchanged.
    """

    def __init__(self, target: object, guard: Guard, spaces: Sequence[dict], funcs: Sequence[Callable]) -> None:
        object.__setattr__(self, "_segcourse", (target, guard, tuple(spaces), tuple(funcs)))

    @property
    def guard(self) -> Guard:
        return object.__getattribute__(self, "_segcourse")[1]

    @property  # type: ignore[misc]
    def __class__(self):  # isinstance(proxy, nn.Module) answers for the object behind it
        return type(object.__getattribute__(self, "_segcourse")[0])

    def __call__(self, *args, **kwargs):
        target, guard, spaces, funcs = object.__getattribute__(self, "_segcourse")
        return guard.call(target, args, kwargs, spaces, funcs)

    def __getattr__(self, item: str):
        target, guard, spaces, funcs = object.__getattribute__(self, "_segcourse")
        value = getattr(target, item)
        if isinstance(value, types.MethodType):
            @functools.wraps(value)
            def run(*args, **kwargs):
                return guard.call(value, args, kwargs, spaces, funcs)

            return run
        return value

    def __setattr__(self, item: str, value: object) -> None:
        setattr(object.__getattribute__(self, "_segcourse")[0], item, value)

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "_segcourse")[0])
