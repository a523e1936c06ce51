"""The web layer: the JSON API (/v1), health and metrics, and the lookup page, as one Flask app.

    from search_api.web import create_app
    app = create_app({"INDEX": "/srv/codecite/index"})

Flask and its extensions are imported only inside this package, and only when a name below is
first used (``pip install 'codecite[web]'``), so importing the package has no side effects.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ProblemError", "create_app", "get_served_index", "get_services"]

_WHERE = {
    "create_app": "app",
    "ProblemError": "problems",
    "get_served_index": "services",
    "get_services": "services",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'search_api.web' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(f"search_api.web.{module}"), name)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] in ("search_api", "indexer"):
            raise
        raise ImportError(
            f"the web server needs the 'web' extra: pip install 'codecite[web]' ({err})"
        ) from err
