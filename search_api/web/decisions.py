"""Policy decisions on attribution answers: a configured policy, or one sent with the request.
The web layer touches the policy engine (`search_api.gate.policy`) only here."""

from __future__ import annotations

from typing import Any

from search_api.engine.results import Report
from search_api.gate.decision import decide
from search_api.gate.policy import Policy
from search_api.gate.policy_file import load_policy
from search_api.web.problems import ProblemError


class Decider:
    """Applies the app's configured policy, or a request's own."""

    def __init__(self, configured: str | None) -> None:
        self.configured: Policy | None = load_policy(configured) if configured else None

    def decide(self, report: Report, requested: dict[str, Any] | None) -> dict[str, Any] | None:
        """The decision for `report` (None when no policy applies)."""
        policy = self.configured
        if requested is not None:
            try:
                policy = load_policy(requested)
            except (ValueError, TypeError, KeyError) as err:
                raise ProblemError(422, f"the policy is invalid: {err}", slug="invalid-policy") from None
        if policy is None:
            return None
        return decide(report, policy).to_dict()
