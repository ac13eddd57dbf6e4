"""What the API reference needs beyond griffe's static reading of python/ortbind.

- The compiled module's stub (``_core.pyi``) carries signatures and types, its docstrings live in the
  C++ registration code: each stub object without a docstring takes the compiled object's, so that
  the reference shows one text, written once.
- Docstrings name other objects with Sphinx roles (``:class:`Env```), which ``help()`` reads well
  and Markdown does not: they are shown as code.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|meth|attr|func|exc|mod|data):`~?([^`]+)`")


def _runtime(path: str) -> Any:
    """The compiled object at ``path`` (``ortbind._core.Session.run``), or None."""
    module, _, rest = path.partition("._core")
    target: Any = importlib.import_module(f"{module}._core")
    for part in filter(None, rest.split(".")):
        target = getattr(target, part, None)
    return target


def _walk(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found += _walk(member)  # type: ignore[arg-type]
    return found


class OrtbindDocstrings(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        core = pkg.members.get("_core")
        if isinstance(core, griffe.Module):
            for obj in _walk(core):
                if obj.docstring is None and (obj.is_class or obj.is_function or obj.is_attribute):
                    runtime = _runtime(obj.path)
                    # Module constants are plain str and int objects, whose __doc__ is their type's.
                    if runtime is not None and (inspect.isclass(runtime) or inspect.isroutine(runtime)
                                                or isinstance(runtime, property)):  # fmt: skip
                        text = inspect.getdoc(runtime)
                        if text:
                            obj.docstring = griffe.Docstring(text, parent=obj)
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = ROLE.sub(r"`\1`", obj.docstring.value)
