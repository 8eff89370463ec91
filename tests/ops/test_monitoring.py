"""deploy/: the Prometheus alert rules and the Grafana dashboard name only metrics the bot exports, and the
compose profile that starts them mounts files that exist (issue 27 item 7)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.ops.conftest import StartOpsBot, get

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# A PromQL series name of ours (`up` is Prometheus' own, set for every scrape target).
OURS = re.compile(r"\b(vidu_[a-z0-9_]+)\b")
SUFFIXES = {"counter": ("",),  # its TYPE line already names the _total series
            "histogram": ("_bucket", "_sum", "_count", "_created"),
            "gauge": ("",), "summary": ("_sum", "_count", "_created"), "untyped": ("",)}


def alert_rules() -> list[dict[str, object]]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "vidu-bot.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def exported_series(page: str) -> set[str]:
    """Every series name a /metrics page can hold, from its `# TYPE` lines (families with no sample yet too)."""
    names = set()
    for line in page.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            names.update(family + suffix for suffix in SUFFIXES[kind])
    return names


def test_the_alerts_an_operator_needs_are_there_with_words_to_act_on() -> None:
    rules = {str(rule["alert"]): rule for rule in alert_rules()}
    wanted = {"ViduProviderPaused": "vidu_provider_paused", "ViduJobLoopStalled": "vidu_worker_heartbeat_age_seconds",
              "ViduDatabaseUnreachable": "vidu_database_up", "ViduSpendNearBudget": "vidu_budget_dollars"}
    for alert, metric in wanted.items():
        assert alert in rules, f"deploy/prometheus/alerts.yml has no {alert}"
        assert metric in str(rules[alert]["expr"]), alert
    for name, rule in rules.items():
        annotations = rule["annotations"]
        assert isinstance(annotations, dict) and annotations.get("summary") and annotations.get("description"), name


async def test_every_metric_the_dashboard_and_the_alerts_name_is_one_the_bot_exports(
    start_ops_bot: StartOpsBot
) -> None:
    bot = await start_ops_bot(BUDGET_PER_DAY="5", BUDGET_PER_MONTH="100")
    status, page = await get(bot, "/metrics")
    assert status == 200
    exported = exported_series(page)
    expressions = [str(rule["expr"]) for rule in alert_rules()] + dashboard_expressions()
    named = {name for expression in expressions for name in OURS.findall(expression)}
    assert len(named) >= 12  # the dashboard covers the bot, not two numbers of it
    assert sorted(named - exported) == [], "named in deploy/ but not exported by the bot"
    panels_for = {"commands": "vidu_commands_total", "request to video": "vidu_request_to_video_seconds_bucket",
                  "servers": "vidu_servers", "spend": "vidu_estimated_spend_dollars"}
    for what, series in panels_for.items():  # what operators of a Prometheus-monitored bot look for
        assert any(series in expression for expression in dashboard_expressions()), what


def test_the_monitoring_profile_mounts_what_exists_and_scrapes_the_bots_port() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"], f"{name} must not start without the profile"
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"
    assert "monitoring" not in str(services["bot"].get("profiles", ""))  # the bot starts without it
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = [t for job in scrape["scrape_configs"] for c in job["static_configs"] for t in c["targets"]]
    assert targets == [f"bot:{services['bot']['environment']['METRICS_PORT']}"]
    assert scrape["rule_files"] == ["/etc/prometheus/alerts.yml"]
    datasource = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
