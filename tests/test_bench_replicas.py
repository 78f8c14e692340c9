"""The replicas benchmark's own arithmetic: percentiles, the store's counters, what a
replica's log and ``/proc`` say. The benchmark itself runs only under ``python -m benchmarks``."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from benchmarks.replicas import (
    STAT_COLUMNS,
    _offset_zone,
    log_problems,
    markdown,
    overlapping_ticks,
    percentile,
    resident_kib,
    sent_by_log,
    store_load,
)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(100, 0, -1)]  # 1..100, unsorted
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7
    assert percentile([1.0, 2.0, 3.0], 0.0) == 1
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_store_load_is_the_difference_less_the_benchmarks_own_rows() -> None:
    before = dict.fromkeys(STAT_COLUMNS, 100)
    after = {column: 100 + 10 * (n + 1) for n, column in enumerate(STAT_COLUMNS)}
    load = store_load(before, after, 2.0, less={"tup_inserted": 5})
    assert load.counts["xact_commit"] == 10
    assert load.counts["tup_inserted"] == 30 - 5
    assert load.transactions == 10 + 20
    assert load.per_second("transactions") == 15
    assert load.per_second("tup_updated") == 20


def test_resident_memory_from_proc_status() -> None:
    status = "Name:\tpython\nVmHWM:\t  401234 kB\nVmRSS:\t  380000 kB\nThreads:\t12\n"
    assert resident_kib(status) == {"VmHWM": 401234, "VmRSS": 380000}


LOG = """\
2026-12-05 15:21:16,702 INFO bot.scheduler: scheduler started: dispatch every 1s
2026-12-05 15:21:17,705 WARNING apscheduler.scheduler: Execution of job "tick" skipped: \
maximum number of running instances reached (1)
2026-12-05 15:21:18,429 INFO bot.dispatcher: dispatch: 500 claimed, 498 sent, 0 skipped, \
2 failed, 0 taken over, 0 reminded
2026-12-05 15:21:19,429 INFO httpx: HTTP Request: POST http://127.0.0.1:4291/x "HTTP/1.1 200 OK"
2026-12-05 15:21:20,001 INFO bot.dispatcher: dispatch: 2 claimed, 2 sent, 0 skipped, \
0 failed, 2 taken over, 0 reminded
2026-12-05 15:21:21,001 WARNING adapters.slack: slack: rate limited (ratelimited)
Traceback (most recent call last):
"""


def test_what_a_replicas_log_says() -> None:
    assert sent_by_log(LOG) == 500
    assert overlapping_ticks(LOG) == 1
    assert log_problems(LOG) == [
        "2026-12-05 15:21:21,001 WARNING adapters.slack: slack: rate limited (ratelimited)",
        "Traceback (most recent call last):",
    ]


@pytest.mark.parametrize("hour", [6, 18])
def test_a_zone_where_it_is_now_that_hour(hour: int) -> None:
    local = datetime.now(UTC).astimezone(ZoneInfo(_offset_zone(hour)))
    assert local.hour in (hour, (hour + 1) % 24)  # the hour may turn meanwhile


def test_without_a_server_the_section_says_why() -> None:
    lines = markdown({"skipped": "no PostgreSQL server: set X", "machine": {}})
    assert lines[0] == "## Replicas"
    assert "Skipped: no PostgreSQL server" in "\n".join(lines)
