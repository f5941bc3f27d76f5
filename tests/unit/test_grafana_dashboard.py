"""deploy/grafana/homecare-dashboard.json cannot drift from the code: every metric its PromQL
names is one services/infra/metrics.py exposes, every metric is on it, and its data source is
the dashboard's variable (so it works imported and provisioned)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.infra.metrics import METRIC_NAMES

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "homecare-dashboard.json"
# a metric name in PromQL: not a label (followed by =, !=, =~), not inside quotes
NAME = re.compile(r"(?<![\w\"'])(homecare_[a-z0-9_]+)\b(?!\s*(?:=~|!=|!~|=(?!=)))")


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows


def expressions(dashboard: dict[str, Any]) -> list[str]:
    found = [t["expr"] for p in panels(dashboard) for t in p.get("targets", []) if "expr" in t]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if variable.get("type") == "query":
            found.append(query["query"] if isinstance(query, dict) else query)
    return found


def metric_names(expr: str) -> set[str]:
    return set(NAME.findall(expr))


def test_the_name_pattern() -> None:
    expr = 'sum by (le) (rate(homecare_handler_seconds_bucket{service=~"$service"}[5m]))'
    assert metric_names(expr) == {"homecare_handler_seconds_bucket"}
    assert metric_names('homecare_up{homecare_x="1"} or homecare_lag == 0') == {
        "homecare_up",
        "homecare_lag",
    }


def test_every_metric_the_dashboard_uses_is_defined(dashboard: dict[str, Any]) -> None:
    exprs = expressions(dashboard)
    assert len(exprs) >= 10
    for expr in exprs:
        names = metric_names(expr)
        assert names, f"no homecare metric in {expr!r}"
        unknown = names - METRIC_NAMES
        assert not unknown, f"{expr!r} uses {sorted(unknown)}, not in services/infra/metrics.py"


def test_every_metric_is_on_the_dashboard(dashboard: dict[str, Any]) -> None:
    used = set().union(*(metric_names(e) for e in expressions(dashboard)))
    # a histogram is shown through its buckets
    expected = METRIC_NAMES - {"homecare_handler_seconds_sum", "homecare_handler_seconds_count"}
    assert expected <= used, f"not on the dashboard: {sorted(expected - used)}"


def test_the_panels_asked_for(dashboard: dict[str, Any]) -> None:
    exprs = " ".join(expressions(dashboard))
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}, sum by (le, service)" in exprs
    assert "sum by (service, outcome) (rate(homecare_messages_in_total" in exprs
    titles = {p["title"] for p in panels(dashboard)}
    assert len(titles) == len(list(panels(dashboard))), "two panels with the same title"


def test_data_source_is_the_dashboards_variable(dashboard: dict[str, Any]) -> None:
    assert 36 <= dashboard["schemaVersion"] <= 41
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids))
