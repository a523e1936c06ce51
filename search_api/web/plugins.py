"""Blueprints from other packages, found through the ``codecite.web_blueprints`` entry point group.

An entry point names a Blueprint, or a callable returning one (called with the app's config when
it takes an argument, else with none); its name is the feature it adds (``generate`` ->
``"features": ["generate"]`` in GET /v1/stats, which shows the page's Generate tab). A factory that
returns None turns its feature off (say, no model is configured): it is neither served nor
advertised. search_api never imports those packages itself, so imports keep
running one way (generator -> search_api). A blueprint that cannot be loaded (say, torch is not
installed) is logged and left out; the rest of the app serves as usual.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint

log = logging.getLogger(__name__)

GROUP = "codecite.web_blueprints"


def discover(
    load_entry_points: bool, extra: Mapping[str, object], config: Mapping[str, Any] | None = None
) -> dict[str, Blueprint]:
    """Feature name -> Blueprint, from the entry points and then `extra` (which wins on a name clash);
    factories that take an argument get `config`."""
    found: dict[str, object] = {}
    if load_entry_points:
        found.update((ep.name, ep) for ep in importlib.metadata.entry_points(group=GROUP))
    found.update(extra)
    blueprints = {}
    for name, obj in found.items():
        try:
            blueprint = _resolve(obj, config or {})
        except ImportError as err:  # an optional extra that is not installed: expected, say how to get it
            log.info("web feature %r is off: %s", name, err)
            continue
        except Exception as err:  # noqa: BLE001 - an optional feature must not take the server down
            log.warning(
                "web feature %r is off: it could not be loaded (%s: %s)", name, type(err).__name__, err
            )
            continue
        if blueprint is None:
            log.info("web feature %r is off: its factory declined (see its settings)", name)
            continue
        if not isinstance(blueprint, Blueprint):
            log.warning("web feature %r is off: %r is not a flask Blueprint", name, blueprint)
            continue
        blueprints[name] = blueprint
    return blueprints


def _resolve(obj: object, config: Mapping[str, Any]) -> object:
    if isinstance(obj, importlib.metadata.EntryPoint):
        obj = obj.load()
    elif isinstance(obj, str):
        module, _, attr = obj.partition(":")
        obj = getattr(importlib.import_module(module), attr)
    if isinstance(obj, Blueprint):
        return obj
    if callable(obj):
        return obj(config) if _takes_an_argument(obj) else obj()
    return obj


def _takes_an_argument(factory: Any) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)
