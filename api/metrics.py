"""Prometheus metrics: HTTP requests of this process, and counts the database gives at scrape time.

The HTTP counters live in the process that served the requests. When `mpp serve --workers N` runs
several, it points PROMETHEUS_MULTIPROC_DIR at a fresh folder so every process writes its counters
there and any of them answers a scrape with the sum. The database gauges need none of that: they
are counted when scraped. Only counts are exposed: no usernames, names, emails, NIKs or ids.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import Scope

from api.deps import RuntimeDep, SessionDep
from api.routing import router
from engine import metrics as engine_metrics

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"  # the route label of a request no route matched (bounded, unlike its path)
# Any token is a valid HTTP method: a client inventing methods must not invent label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The `_created` series would double the number of series, and nobody graphs them.
disable_created_metrics()  # type: ignore[no-untyped-call]
HTTP_REQUESTS = Counter("mpp_http_requests", "HTTP requests served, by method, route template and status.",
                        ["method", "route", "status"], registry=None)
HTTP_DURATION = Histogram("mpp_http_request_duration_seconds",
                          "Time to serve an HTTP request, by method, route template and status.",
                          ["method", "route", "status"], registry=None)
PROCESS = ProcessCollector(registry=None)

routes = router(tags=["operations"])


def route_template(scope: Scope) -> str:
    """Return the template of the route that served a request (`/api/cases/{case_id}`), never its path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """Count and time one HTTP request by method, route template and status (told by api.logs.RequestLog)."""
    method = scope["method"] if scope["method"] in METHODS else "other"
    labels = (method, route_template(scope), status)
    series = _SERIES.get(labels)
    if series is None:
        series = _SERIES[labels] = (HTTP_REQUESTS.labels(method, labels[1], str(status)),
                                    HTTP_DURATION.labels(method, labels[1], str(status)))
    series[0].inc()
    series[1].observe(seconds)


# Each label set's two series, found once: the labels are bounded (methods, route templates, statuses).
_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


class _Database(Collector):
    """The database's counts, as gauges, for one scrape."""

    def __init__(self, snap: engine_metrics.Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        cases = GaugeMetricFamily("mpp_cases", "Cases by process and status.", labels=["process_key", "status"])
        for (key, status), count in sorted(self.snap.cases.items()):
            cases.add_metric([key, status], count)
        open_tasks = GaugeMetricFamily("mpp_open_tasks", "Open user tasks by the agency of their role.",
                                       labels=["agency"])
        overdue = GaugeMetricFamily("mpp_overdue_tasks", "Open user tasks past their due time, by agency.",
                                    labels=["agency"])
        for row in self.snap.tasks:
            open_tasks.add_metric([row.agency], row.open)
            overdue.add_metric([row.agency], row.overdue)
        jobs = GaugeMetricFamily("mpp_jobs", "Jobs by kind and status.", labels=["kind", "status"])
        for (kind, status), count in sorted(self.snap.jobs.items()):
            jobs.add_metric([kind, status], count)
        lag = GaugeMetricFamily("mpp_job_lag_seconds",
                                "Seconds since the oldest job a worker could claim came due (0: none waits).",
                                value=self.snap.job_lag_s)
        yield from (cases, open_tasks, overdue, jobs, lag, *self._connector_calls())

    def _connector_calls(self) -> Iterator[Metric]:
        # Counted from connector_call rows: the worker processes that make the calls need no shared folder.
        calls = CounterMetricFamily("mpp_connector_calls", "Connector call attempts by operation and outcome.",
                                    labels=["operation", "outcome"])
        for (operation, outcome), count in sorted(self.snap.connector_calls.items()):
            calls.add_metric([operation, outcome], count)
        seconds = HistogramMetricFamily("mpp_connector_call_seconds", "Duration of connector call attempts.",
                                        labels=["operation"])
        for row in self.snap.connector_seconds:
            bounds = [(f"{b:g}", n) for b, n in zip(engine_metrics.CALL_BUCKETS_S, row.buckets, strict=True)]
            seconds.add_metric([row.operation], [*bounds, ("+Inf", row.count)], row.sum_s)
        yield from (calls, seconds)


def exposition_registry(snap: engine_metrics.Snapshot) -> CollectorRegistry:
    """Return a registry with this scrape's collectors: HTTP (this process or all of them) and the database."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in (HTTP_REQUESTS, HTTP_DURATION, PROCESS):
            registry.register(collector)
    registry.register(_Database(snap))
    return registry


@routes.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    """Expose the platform's metrics in the Prometheus text format (counts only, no login)."""
    snap = engine_metrics.snapshot(session, now=rt.clock())
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(exposition_registry(snap)), media_type=content_type)
