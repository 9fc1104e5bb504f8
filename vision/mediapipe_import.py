"""Import MediaPipe without paying for its drawing helpers.

``import mediapipe`` imports ``mediapipe.tasks.python.vision.drawing_utils``, which imports
``matplotlib.pyplot``: about 0.45 s of a 0.75 s import, spent before the first frame of
every analysis in a fresh process (the command line, the benchmark, each worker process).
gaitscope draws with OpenCV and never calls those helpers, so while MediaPipe is imported
here they are put in place as stand-in modules that load the real module on first use
(PEP 562 module ``__getattr__``): nothing is lost if somebody does use them later.

>>> mp = mediapipe()
>>> mp.Image.__name__
'Image'
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from types import ModuleType

__all__ = ["mediapipe", "DEFERRED"]

#: MediaPipe modules loaded only when first used.
DEFERRED = ("mediapipe.tasks.python.vision.drawing_utils", "mediapipe.tasks.python.vision.drawing_styles")

_lock = threading.RLock()


def mediapipe() -> ModuleType:
    """The ``mediapipe`` package, imported with :data:`DEFERRED` modules left for later."""
    with _lock:
        if "mediapipe" in sys.modules:
            return sys.modules["mediapipe"]
        finder = _Deferring()
        sys.meta_path.insert(0, finder)
        try:
            return importlib.import_module("mediapipe")
        finally:
            sys.meta_path.remove(finder)


class _Deferring(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the :data:`DEFERRED` modules and loads them as stand-ins."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in DEFERRED else None

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__

        def __getattr__(attr: str):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return getattr(_load_real(name), attr)

        module.__getattr__ = __getattr__


def _load_real(name: str) -> ModuleType:
    """Replace the stand-in ``name`` by the real module (in ``sys.modules`` and on its package)."""
    with _lock:
        current = sys.modules.get(name)
        if _is_real(current):
            return current
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules[parent_name]
        spec = importlib.machinery.PathFinder.find_spec(name, parent.__path__)
        real = importlib.util.module_from_spec(spec)
        sys.modules[name] = real
        try:
            spec.loader.exec_module(real)
        except BaseException:
            sys.modules[name] = current
            raise
        setattr(parent, child, real)
        return real


def _is_real(module: ModuleType | None) -> bool:
    return module is not None and not isinstance(getattr(module, "__loader__", None), _Deferring)
