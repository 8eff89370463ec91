"""The bot under load: `python -m benchmarks [--quick] [--json FILE] [--only ack,delivery,...] [--minutes N]`.

Runs the real bot process (`python -m bot`) against the fake Discord and the fake provider on 127.0.0.1,
prints each item's figures as it finishes, then one Markdown table (figure, value, target). `--json` writes
the same figures under stable keys. Figures, not assertions: the machine and its load decide them. The chaos
soak (`--only soak`, benchmarks/soak.py) runs only when named: `--minutes N` (default 30, `--quick` 3).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks import (
    ack,
    big_videos,
    blocked,
    capacity,
    delivery,
    many_jobs,
    media_bench,
    soak,
    store_bench,
    takeover,
)
from benchmarks.cpu_use import CpuSampler
from benchmarks.harness import load_average

# key -> (what it is, unit, target as text, check or None)
FIGURES: dict[str, tuple[str, str, str, Callable[[float, dict[str, Any]], bool] | None]] = {
    "ack_ms_p50": ("/keyframes burst: acknowledgement p50", "ms", "", None),
    "blocked_refused_s": ("50 blocked members' /keyframes: the last refusal", "s", "", None),
    "blocked_cdn_downloads": ("50 blocked members' /keyframes: attachments downloaded", "", "0",
                              lambda v, _: v == 0),
    "ack_ms_p99": ("/keyframes burst: acknowledgement p99", "ms", "≤ 250", lambda v, _: v <= 250),
    "loop_lag_ms_max": ("/keyframes burst: largest event-loop lag", "ms", "≤ 50", lambda v, _: v <= 50),
    "burst_answered_s": ("/keyframes burst: the last of the 50 final answers (request cards posted)", "s", "≤ 50",
                         lambda v, _: v <= 50),
    "safety_ms_per_picture_p95": ("offline picture screen (NudeNet 320n) on the burst's pictures: CPU p95", "ms",
                                  "≤ 60", lambda v, _: v <= 60),
    "delivery_s_p50": ("succeeded → posted, p50", "s", "≤ 2", lambda v, _: v <= 2),
    "delivery_s_p99": ("succeeded → posted, p99", "s", "", None),
    "polls_per_job": ("bot polls per job", "", "≤ baseline / 3",
                      lambda v, f: isinstance(f.get("baseline_polls_per_job"), float | int)
                      and v <= f["baseline_polls_per_job"] / 3),
    "baseline_delivery_s_p50": ("fixed 3 s poller: succeeded → downloaded, p50", "s", "", None),
    "baseline_polls_per_job": ("fixed 3 s poller: polls per job", "", "", None),
    "cpu_ms_per_job": ("/animate, request → posted video: bot CPU per job (with its image workers)", "ms", "",
                       None),
    # The lease the run used (--quick shortens it) is in the figures as takeover_lease_s.
    "takeover_s": ("SIGKILL mid-delivery → the other process posts the video", "s",
                   f"≤ lease + {takeover.MARGIN_SECONDS:g} ({takeover.target(takeover.LEASE_SECONDS):g} at the "
                   f"default {takeover.LEASE_SECONDS:g} s)",
                   lambda v, f: v <= takeover.target(f.get("takeover_lease_s", takeover.LEASE_SECONDS))),
    "rss_mb_10k_jobs": ("10,000 jobs in flight: peak RSS", "MB", "≤ 200", lambda v, _: v <= 200),
    "poll_loop_cpu_pct": ("10,000 jobs in flight: bot CPU (% of one core)", "%", "", None),
    "polls_per_s_10k_jobs": ("10,000 jobs in flight: polls per second", "/s", "", None),
    "rss_mb_big_deliveries": ("large videos: peak RSS", "MB", "≤ 300", lambda v, _: v <= 300),
    "store_tps_sqlite": ("store: transitions/s, SQLite", "/s", "", None),
    "store_tps_pg_1": ("store: transitions/s, PostgreSQL, 1 process", "/s", "", None),
    "store_tps_pg_2": ("store: transitions/s, PostgreSQL, 2 processes", "/s", "", None),
    # No target (retired by issue 16): on 2 cores one process already keeps them 76-99 % busy, and a store's
    # thousands of transitions a second are far above what the provider's rate cap lets through.
    "store_tps_pg_4": ("store: transitions/s, PostgreSQL, 4 processes", "/s", "", None),
    "store_cpu_busy_pg_1": ("store, PostgreSQL, 1 process: machine CPU busy (all cores)", "%", "", None),
    "store_cpu_server_pg_1": ("store, PostgreSQL, 1 process: server's CPU (of all cores)", "%", "", None),
    "store_cpu_clients_pg_1": ("store, PostgreSQL, 1 process: client processes' CPU (of all cores)", "%", "", None),
    "store_cpu_busy_pg_2": ("store, PostgreSQL, 2 processes: machine CPU busy (all cores)", "%", "", None),
    "store_cpu_busy_pg_4": ("store, PostgreSQL, 4 processes: machine CPU busy (all cores)", "%", "", None),
    "store_cpu_server_pg_4": ("store, PostgreSQL, 4 processes: server's CPU (of all cores)", "%", "", None),
    "store_cpu_clients_pg_4": ("store, PostgreSQL, 4 processes: client processes' CPU (of all cores)", "%", "",
                               None),
    "store_cpu_ms_per_transition_pg_1": ("store, PostgreSQL, 1 process: CPU per transition", "ms", "", None),
    "store_cpu_ms_per_transition_pg_4": ("store, PostgreSQL, 4 processes: CPU per transition", "ms", "", None),
    "keyframe_bytes_720p": ("12 MP phone photo for a 720p video: bytes sent", "MB", "≤ 0.8", lambda v, _: v <= 0.8),
    "keyframe_bytes_1080p": ("12 MP phone photo for a 1080p video: bytes sent", "MB", "≤ 1.5", lambda v, _: v <= 1.5),
    "keyframe_ssim_min": ("varied 12 MP pictures sized for the video: lowest SSIM at the video's size", "", "≥ 0.98",
                          lambda v, _: v >= 0.98),
    "prep_ms_12mp_jpeg": ("preparing a 12 MP phone JPEG for 720p: median", "ms", "≤ 100", lambda v, _: v <= 100),
    "prep_ms_12mp_jpeg_1080p": ("preparing a 12 MP phone JPEG for 1080p: median", "ms", "", None),
    "jobs_per_min_at_60rpm": ("at the default rate cap (60 calls/min), saturated: videos delivered per minute", "/min",
                              "", None),
    "provider_calls_per_job": ("saturated, tasks of 20-120 s: provider calls per job (submits, polls, refreshes)", "",
                               "≤ 2.5", lambda v, _: v <= 2.5),
    "delivery_s_p50_saturated": ("saturated: task finished → video posted, p50", "s", "", None),
    "small_server_delay_ratio": ("a one-job server's request → video p99, beside another's queue / alone", "",
                                 "≤ 2", lambda v, _: v <= 2),
    "capped_jobs_per_min_at_60rpm": (f"PROVIDER_MAX_IN_FLIGHT={capacity.CAP}, {capacity.CAPPED_PROCESSES} processes "
                                     "on PostgreSQL, saturated: videos delivered per minute", "/min", "", None),
    # No target: a slot is held until a poll sees its task end, so the cap trades calls for a true queue.
    "capped_provider_calls_per_job": ("capped: provider calls per job", "", "", None),
    "capped_delivery_s_p50_saturated": ("capped: task finished → video posted, p50", "s", "", None),
    "capped_small_server_delay_ratio": ("capped: a one-job server's request → video p99, beside another's queue / "
                                        "alone", "", "≤ 2", lambda v, _: v <= 2),
    "max_in_flight_seen": ("capped: most tasks running at the provider at once", "", f"≤ {capacity.CAP}",
                           lambda v, _: v <= capacity.CAP),
    "soak_jobs": ("soak: jobs the bots created", "", "", None),
    "soak_delivered_once": ("soak: jobs delivered, exactly one video post", "", "", None),
    "soak_failed_told": ("soak: jobs ended without a video, member told (or cancelled)", "", "", None),
    "soak_lost": ("soak: requested, neither delivered nor told", "", "0", lambda v, _: v == 0),
    "soak_duplicate_posts": ("soak: extra video posts / end notices", "", "0", lambda v, _: v == 0),
    "soak_double_submits": ("soak: one request submitted as two tasks", "", "0", lambda v, _: v == 0),
    "soak_ledger_disagreements": ("soak: ledger vs the provider's tasks", "", "0", lambda v, _: v == 0),
    "soak_submits_taken_over": ("soak: submits that went out after another process took the job over", "",
                                "0", lambda v, _: v == 0),
    "soak_rss_mb_start": ("soak: RSS of the longest-lived process, first sample", "MB", "", None),
    "soak_rss_mb_end": ("soak: RSS of the longest-lived process, last sample", "MB", "", None),
    "soak_rss_slope_mb_per_h": ("soak: RSS slope (least squares)", "MB/h", "≤ 5", lambda v, _: v <= 5),
    "soak_fds_end_minus_start": ("soak: open fds, end − start (after 60 s warm-up)", "", f"≤ {soak.FDS_TARGET}",
                                 lambda v, _: v <= soak.FDS_TARGET),
    "soak_loop_lag_ms_max": ("soak: largest event-loop lag, any process", "ms", "", None),
}


async def _store(workdir: Path, *, quick: bool) -> dict[str, Any]:
    jobs = 200 if quick else 1000
    sqlite = await store_bench.measure_one_process(f"sqlite:///{workdir}/store.db", jobs, 4)
    figures: dict[str, Any] = {
        "store_tps_sqlite": round(sqlite["transitions"] / (sqlite["ended"] - sqlite["began"])),
        "store_tps_pg_1": "n/a", "store_tps_pg_2": "n/a", "store_tps_pg_4": "n/a",
        "store_cpu_busy_pg_1": "n/a", "store_cpu_busy_pg_2": "n/a", "store_cpu_busy_pg_4": "n/a",
    }
    notes = [f"store: SQLite {figures['store_tps_sqlite']} transitions/s ({jobs} jobs × 4, 4 coroutines, on disk)"]
    pg = os.environ.get("TEST_DATABASE_URL_PG")
    if not pg:
        notes.append("store: PostgreSQL n/a (TEST_DATABASE_URL_PG is not set)")
    else:
        try:
            server = await store_bench.server_pid(pg)
            for processes in (1, 2, 4):
                # CPU during the timed window: is the machine already full with one process?
                with CpuSampler(server, 0.1, second_root=os.getpid()) as cpu:  # second: our client processes
                    run = await asyncio.to_thread(store_bench.measure_run, pg, jobs=jobs, processes=processes,
                                                  in_children=True)
                tps = run["transitions"] / (run["ended"] - run["began"])
                share = cpu.share(run["began"], run["ended"])
                figures[f"store_tps_pg_{processes}"] = round(tps)
                figures[f"store_cpu_busy_pg_{processes}"] = round(share.busy_pct, 1)
                figures[f"store_cpu_server_pg_{processes}"] = round(share.tree_pct, 1) if server else "n/a"
                figures[f"store_cpu_clients_pg_{processes}"] = round(share.second_pct, 1)
                # CPU seconds (all processes, all cores) per transition: with it constant, the machine's
                # ceiling is cores / this, whatever the number of processes.
                per = share.cpu_seconds / run["transitions"]
                figures[f"store_cpu_ms_per_transition_pg_{processes}"] = round(1000 * per, 2)
                notes.append(
                    f"store: PostgreSQL, {processes} process(es): {round(tps)}/s; CPU busy {share.busy_pct:.0f} % "
                    f"of {os.cpu_count()} cores (server {share.tree_pct:.0f} %, "
                    f"client processes {share.second_pct:.0f} %, "
                    f"anything else {share.busy_pct - share.tree_pct - share.second_pct:.0f} %) "
                    f"over {share.seconds:.1f} s; {1000 * per:.2f} ms CPU per transition, so at most "
                    f"~{(os.cpu_count() or 1) / per:.0f}/s on this machine at that cost"
                )
        except Exception as exc:  # the PG store may not exist yet: say so, keep the other figures
            notes.append(f"store: PostgreSQL n/a ({type(exc).__name__}: {str(exc)[:120]})")
    return {**figures, "notes": notes}


# item -> measure(workdir, quick, soak minutes)
ITEMS: dict[str, Callable[[Path, bool, float], Awaitable[dict[str, Any]]]] = {
    "ack": lambda w, q, _: ack.measure(w, quick=q),
    "blocked": lambda w, q, _: blocked.measure(w, quick=q),
    "delivery": lambda w, q, _: delivery.measure(w, quick=q),
    "many": lambda w, q, _: many_jobs.measure(w, quick=q),
    "big": lambda w, q, _: big_videos.measure(w, quick=q),
    "takeover": lambda w, q, _: takeover.measure(w, quick=q),
    "store": lambda w, q, _: _store(w, quick=q),
    "media": lambda w, q, _: media_bench.measure(w, quick=q),
    "capacity": lambda w, q, _: capacity.measure(w, quick=q),
    "capped": lambda w, q, _: capacity.measure_capped(w, quick=q),
    "soak": lambda w, _, minutes: soak.measure(w, minutes=minutes),
}
DEFAULT_ITEMS = [name for name in ITEMS if name != "soak"]  # the soak takes half an hour: only when named
# --quick leaves out, unless named, what cannot be made quick: capacity (capped too) needs a minute of steady load.
QUICK_ITEMS = [name for name in DEFAULT_ITEMS if name not in ("capacity", "capped")]


def _format(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) < 1:  # an SSIM of 0.9809 must not read as the 0.98 it misses or meets
            return f"{value:.4g}"
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(figures: dict[str, Any]) -> str:
    rows = ["| figure | key | value | target | met |", "|---|---|---|---|---|"]
    for key, (label, unit, target, check) in FIGURES.items():
        value = figures.get(key, "not run")
        met = ""
        if check is not None and isinstance(value, int | float):
            met = "yes" if check(float(value), figures) else "**no**"
            if key == "polls_per_job" and figures.get("quick"):
                met = "n/a (quick: 8-20 s tasks leave the baseline few polls)"
        shown = _format(value) + (f" {unit}" if unit and isinstance(value, int | float) else "")
        rows.append(f"| {label} | `{key}` | {shown} | {target} | {met} |")
    return "\n".join(rows)


async def run(names: list[str], *, quick: bool, minutes: float) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vidu-bench-") as tmp:
        for name in names:
            began = time.monotonic()
            print(f"## {name} (load average {load_average()})", flush=True)
            try:
                result = await ITEMS[name](Path(tmp), quick, minutes)
            except Exception:
                traceback.print_exc()
                print(f"{name}: FAILED (figures left out)", flush=True)
                continue
            for note in result.pop("notes", []):
                print(note, flush=True)
            figures.update(result)
            print(f"{name}: {time.monotonic() - began:.0f} s", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmarks of the bot under load (fakes on 127.0.0.1).")
    parser.add_argument("--quick", action="store_true", help="fewer jobs and shorter waits (about 2 minutes)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated subset of {','.join(ITEMS)} (soak runs only when named; "
                             "--quick leaves capacity out unless named)")
    parser.add_argument("--minutes", type=float, help="length of the soak's traffic (default 30; --quick: 3)")
    args = parser.parse_args()
    minutes = args.minutes if args.minutes is not None else (3.0 if args.quick else 30.0)
    only = args.only if args.only is not None else ",".join(QUICK_ITEMS if args.quick else DEFAULT_ITEMS)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in ITEMS]
    if unknown:
        parser.error(f"--only: unknown item(s) {', '.join(unknown)}; known: {', '.join(ITEMS)}")
    began = time.monotonic()
    figures = asyncio.run(run(names, quick=args.quick, minutes=minutes))
    figures["quick"] = args.quick
    figures["load_average_after"] = load_average()
    figures["cpus"] = os.cpu_count()
    print(f"\ntotal {time.monotonic() - began:.0f} s, {'quick' if args.quick else 'full'} run, "
          f"{os.cpu_count()} CPUs, load average after {load_average()}\n")
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
