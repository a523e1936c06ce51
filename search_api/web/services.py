"""What a running app holds: the served index, the policy decider, metrics, the optional features.

Blueprints added by other packages (``codecite.web_blueprints`` entry points, e.g. the generator's
``/v1/generate``) reach them through `get_services()` / `get_served_index()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_flask_exporter import PrometheusMetrics

from search_api.engine.results import Report
from search_api.web.decisions import Decider
from search_api.web.served_index import ServedIndex

EXTENSION = "codecite"


class Instruments:
    """codecite's own Prometheus metrics (the HTTP ones come from prometheus-flask-exporter)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attribute_seconds = Histogram(
            "codecite_attribute_seconds",
            "Time to attribute one snippet (engine and locking), seconds",
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.queries = Counter(
            "codecite_queries",
            "Snippets attributed, by outcome (matched, clean, refused)",
            ["outcome"],
            registry=registry,
        )
        self.matches = Counter(
            "codecite_matches",
            "Matches reported, by the source's license category",
            ["license_category"],
            registry=registry,
        )

    def observe(self, report: Report, seconds: float) -> None:
        self.attribute_seconds.observe(seconds)
        self.queries.labels("matched" if report.matches else "clean").inc()
        for match in report.matches:
            self.matches.labels(match.source.license_category).inc()


@dataclass(slots=True)
class Services:
    served: ServedIndex
    decider: Decider
    instruments: Instruments
    exporter: PrometheusMetrics
    features: set[str] = field(default_factory=set)


def get_services() -> Services:
    return current_app.extensions[EXTENSION]


def get_served_index() -> ServedIndex:
    """The current app's ServedIndex: `get_served_index().attribute(code, language)` answers with a Report."""
    return get_services().served
