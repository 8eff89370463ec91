"""The benchmark's own arithmetic: what it counts, how it ranks, which keys it publishes (its figures are
quoted in docs/PERFORMANCE.md, so a wrong count is a wrong claim)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import store_bench
from benchmarks.__main__ import FIGURES, table
from benchmarks.harness import percentile

ISSUE_KEYS = {"ack_ms_p50", "ack_ms_p99", "loop_lag_ms_max", "delivery_s_p50", "delivery_s_p99", "polls_per_job",
              "baseline_delivery_s_p50", "baseline_polls_per_job", "rss_mb_10k_jobs", "rss_mb_big_deliveries",
              "store_tps_sqlite", "store_tps_pg_1", "store_tps_pg_4"}


def test_every_published_key_is_in_the_table() -> None:
    assert set(FIGURES) >= ISSUE_KEYS


async def test_the_store_benchmark_counts_every_transition_its_coroutines_make(tmp_path: Path) -> None:
    # Four coroutines once overwrote each other's counts, and the figure was a quarter of the truth.
    run = await store_bench.measure_one_process(f"sqlite:///{tmp_path}/store.db", jobs=12, concurrency=4)
    assert run["transitions"] == 12 * len(store_bench.STEPS)
    assert run["ended"] > run["began"]


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 51)]
    assert percentile(values, 50) == 25.0
    assert percentile(values, 99) == 50.0  # p99 of 50 values is the largest
    assert percentile([7.0], 99) == 7.0


def test_a_missed_target_is_marked_in_the_table() -> None:
    shown = table({"store_tps_pg_1": 1000, "store_tps_pg_4": 2000, "ack_ms_p99": 40.0, "loop_lag_ms_max": 61.0})
    rows = {line.split("|")[2].strip(): line for line in shown.splitlines()[2:]}
    assert rows["`store_tps_pg_4`"].endswith("| **no** |")
    assert rows["`ack_ms_p99`"].endswith("| yes |")
    assert rows["`loop_lag_ms_max`"].endswith("| **no** |")
    assert "not run" in rows["`rss_mb_10k_jobs`"]
