"""A hash of a model's source code, so that a stored run stands in only for the code that trained it.

A model defined in a notebook cell is meant to be edited and rerun; weights stored for the old code
must then not be reused. :func:`source_hash` hashes the source of a model class and of everything its
methods reach by name: the classes and functions of the same module or of ``a2`` (recursively, e.g.
``DropPath`` or a ``conv_bn_act`` helper) and plain constants such as a table of stages. Any edit of
those definitions, comments included, changes the hash. Classes are hashed method by method, because
``inspect.getsource`` of a class defined in a Jupyter cell fails on Python < 3.13 while that of a
function works. Names are hashed without their module, so a class defined in a notebook cell and its
copy exported into the package hash alike.
"""

from __future__ import annotations

import dis
import hashlib
import inspect
import types
from typing import Any

PLAIN = (bool, int, float, str, bytes, tuple, list, dict, frozenset, type(None))
IGNORED_ATTRS = {"__dict__", "__weakref__", "__module__", "__qualname__", "__doc__", "__firstlineno__",
                 "__static_attributes__"}


def _function_source(func: types.FunctionType) -> str:
    try:
        return inspect.getsource(func)
    except (OSError, TypeError):  # generated (e.g. a dataclass's __init__): its name is all there is
        return f"<no source: {func.__qualname__}>"


def _functions(obj: Any) -> list[types.FunctionType]:
    """The plain functions behind ``obj``: itself, or a class's methods, static/class methods and properties."""
    if isinstance(obj, types.FunctionType):
        return [obj]
    found = []
    for value in vars(obj).values():
        value = getattr(value, "__func__", value)
        parts = (value.fget, value.fset, value.fdel) if isinstance(value, property) else (value,)
        found += [f for f in parts if isinstance(f, types.FunctionType)]
    return found


def _describe(obj: Any) -> str:
    if isinstance(obj, types.FunctionType):
        return _function_source(obj)
    lines = [f"class {obj.__qualname__}({', '.join(b.__qualname__ for b in obj.__bases__)}): {obj.__doc__!r}"]
    for name, value in sorted(vars(obj).items()):
        if name in IGNORED_ATTRS:
            continue
        funcs = _functions(type("_", (), {name: value}))
        lines.append(f"{name}: " + ("\n".join(map(_function_source, funcs)) if funcs else repr(value)))
    return "\n".join(lines)


def _names(code: types.CodeType) -> set[str]:
    """The global names a code object (and the lambdas and comprehensions inside it) reads.

    Only true global loads count, not attribute names, so that ``self.data`` does not pull in a
    notebook variable called ``data``.
    """
    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _is_ours(obj: Any, home: str) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return isinstance(obj, (type, types.FunctionType)) and (module == home or module.split(".")[0] == "a2")


def source_hash(root: type | types.FunctionType) -> str:
    """16 hex digits of sha256 over the source of ``root`` and of the definitions and constants it uses."""
    home = root.__module__
    seen: dict[str, str] = {}
    todo = [root]
    while todo:
        obj = todo.pop()
        if obj.__qualname__ in seen:
            continue
        seen[obj.__qualname__] = _describe(obj)
        for func in _functions(obj):
            for name in sorted(_names(func.__code__)):
                value = func.__globals__.get(name)
                if _is_ours(value, home):
                    todo.append(value)
                elif isinstance(value, PLAIN) and name in func.__globals__:
                    seen.setdefault(f"{func.__qualname__}:{name}", f"{name} = {value!r}")
    blob = "\n\n".join(f"# {key}\n{text}" for key, text in sorted(seen.items()))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
