"""Concurrent requests for one page share a build, never one that started before they arrived."""

from __future__ import annotations

import threading

from gates.ui.shared_builds import SharedBuilds


def test_concurrent_requests_for_a_page_share_a_build_that_started_after_they_arrived() -> None:
    builds: SharedBuilds[int] = SharedBuilds()
    started = threading.Event()
    release = threading.Event()
    made: list[int] = []

    def slow() -> int:
        made.append(len(made))
        if len(made) == 1:
            started.set()
            release.wait(10)
        return len(made)

    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(builds.run("/p", slow)))
    first.start()
    assert started.wait(10)
    # These arrive while build 1 runs: they must not get its (older) result.
    late = [threading.Thread(target=lambda: results.append(builds.run("/p", slow)))
            for _ in range(5)]  # fmt: skip
    for t in late:
        t.start()
    for _ in range(1000):  # one of them leads the next build, four join it
        if builds.shared == 4:
            break
        threading.Event().wait(0.01)
    release.set()
    for t in (first, *late):
        t.join(10)

    assert sorted(results) == [1, 2, 2, 2, 2, 2]
    assert builds.builds == 2
