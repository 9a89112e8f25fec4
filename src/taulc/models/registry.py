"""Model registry: names recorded in run directories, bundles and configs -> model classes.

A model class registers itself with :func:`register_model` (a class decorator) in its
own module; :func:`model_class` resolves a class name (``"LinearSVM"``, as recorded in a run's
metrics, model file and predictor bundle, :mod:`taulc.runs`), a short name (``"svm"``, the
``src/taulc/conf/model`` file), a declared alias (an older class name) or a Hydra ``_target_``
(``"taulc.models.LinearSVM"``).  A name not registered yet triggers one import of every
module of :mod:`taulc.models`, so a new model is one file there plus one
``src/taulc/conf/model/*.yaml`` (docs/howto/add-model.md).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import TYPE_CHECKING, TypeVar

import taulc.models as pkg
from taulc.errors import TaulcError

if TYPE_CHECKING:
    from taulc.models.base import TaulcModule

log = logging.getLogger(__name__)

__all__ = ["MODEL_CLASSES", "UnknownModelError", "register_model", "model_class", "model_class_or_none", "discover_models"]

#: class name -> class, in registration order (live: new registrations appear here)
MODEL_CLASSES: dict[str, type[TaulcModule]] = {}
_ALIASES: dict[str, str] = {}
_discovered = False

M = TypeVar("M", bound="type[TaulcModule]")


class UnknownModelError(TaulcError, ValueError):
    """A recorded or configured model name that no registered model class answers to."""


def register_model(cls: M) -> M:
    """Class decorator: make ``cls`` known by its class name, ``short_name`` and ``aliases``."""
    name = cls.__name__
    other = MODEL_CLASSES.get(name)
    if other is not None and other is not cls and other.__module__ != cls.__module__:
        raise UnknownModelError(f"model class name {name} is registered twice ({other.__module__}, {cls.__module__})")
    if not getattr(cls, "short_name", ""):
        raise UnknownModelError(
            f"{cls.__module__}.{name} declares no short_name (the src/taulc/conf/model/<short_name>.yaml name)"
        )
    MODEL_CLASSES[name] = cls
    for key in (cls.short_name, *getattr(cls, "aliases", ())):
        _ALIASES[key] = name
    return cls


def discover_models() -> None:
    """Import every module of :mod:`taulc.models` once (their decorators register the classes)."""
    global _discovered
    if _discovered:
        return
    _discovered = True

    for info in pkgutil.iter_modules(pkg.__path__):
        try:
            importlib.import_module(f"{pkg.__name__}.{info.name}")
        except ImportError as exc:  # an optional dependency missing: that model stays unknown
            log.debug("taulc.models.%s not imported (%s)", info.name, exc)


def _lookup(name: str) -> type[TaulcModule] | None:
    key = name.rsplit(".", 1)[-1] if "." in name else name
    key = _ALIASES.get(key, key)
    return MODEL_CLASSES.get(key)


def model_class_or_none(name: str | None) -> type[TaulcModule] | None:
    """The registered class for ``name`` (class name, short name, alias or ``_target_``), else None."""
    if not name:
        return None
    name = str(name)
    cls = _lookup(name)
    if cls is None and "." in name:  # a Hydra _target_ outside taulc.models: importing it registers it
        module, _, attr = name.rpartition(".")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            log.debug("cannot import %s for model %s (%s)", module, attr, exc)
        cls = _lookup(name)
    if cls is None:
        discover_models()
        cls = _lookup(name)
    return cls


def model_class(name: str | None) -> type[TaulcModule]:
    """The registered class for ``name``; :class:`UnknownModelError` naming the known ones otherwise."""
    cls = model_class_or_none(name)
    if cls is None:
        known = sorted({*MODEL_CLASSES, *_ALIASES})
        raise UnknownModelError(
            f"unknown model {name!r}; registered models: {known} "
            "(a new model registers itself with @register_model, docs/howto/add-model.md)"
        )
    return cls
