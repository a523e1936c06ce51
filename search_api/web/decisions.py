"""Policy decisions on attribution answers: a configured policy, or one sent with the request.

The policy engine is `search_api.policy` (``load_policy(path_or_dict)``, ``decide(report, policy)``
returning a decision with ``to_dict()``). This module is the only place the web layer touches it,
and it copes with a build that has no policy engine yet: configured policies then fail at start-up
and request policies get a 422 that says so.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from search_api.results import Report
from search_api.web.problems import ProblemError

log = logging.getLogger(__name__)


class Decider:
    """Applies the app's configured policy, or a request's own."""

    def __init__(self, configured: str | None) -> None:
        self._engine = _policy_engine()
        self.configured: object | None = None
        if configured:
            if self._engine is None:
                raise ValueError(f"POLICY={configured!r} is set, but this codecite has no policy engine "
                                 "(search_api.policy): unset POLICY or upgrade codecite")
            self.configured = self._engine.load_policy(configured)

    @property
    def available(self) -> bool:
        return self._engine is not None

    def decide(self, report: Report, requested: dict[str, Any] | None) -> dict[str, Any] | None:
        """The decision for `report` (None when no policy applies)."""
        policy = self.configured
        if requested is not None:
            if self._engine is None:
                raise ProblemError(422, "this server has no policy engine, so it cannot apply a \"policy\": "
                                        "leave the field out, or use `codecite check` for policy decisions",
                                   slug="policy-unavailable")
            try:
                policy = self._engine.load_policy(requested)
            except (ValueError, TypeError, KeyError) as err:
                raise ProblemError(422, f"the policy is invalid: {err}", slug="invalid-policy") from None
        if policy is None:
            return None
        return self._engine.decide(report, policy).to_dict()


def _policy_engine() -> Any | None:
    try:
        module = importlib.import_module("search_api.policy")
    except ModuleNotFoundError as err:
        if err.name != "search_api.policy":
            raise
        return None
    if not (hasattr(module, "load_policy") and hasattr(module, "decide")):
        log.warning("search_api.policy has no load_policy/decide: policy decisions are off")
        return None
    return module
