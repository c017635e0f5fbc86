"""control.second_thread: one task at a time beside the caller, its error raised to the caller."""

from __future__ import annotations

import threading

import pytest

from control.second_thread import SecondThread


def test_tasks_run_one_at_a_time_in_order_off_the_callers_thread() -> None:
    ran: list[tuple[int, str]] = []
    running = threading.Semaphore(1)

    def task(number: int) -> None:
        assert running.acquire(blocking=False), "two tasks ran at once"
        ran.append((number, threading.current_thread().name))
        running.release()

    with SecondThread("worker") as thread:
        for number in range(20):
            thread.submit(task, number)
    assert [number for number, _ in ran] == list(range(20))  # the last one waited for too
    assert all(name.startswith("worker") for _, name in ran)


def test_a_tasks_error_is_raised_by_the_next_submit() -> None:
    def failing() -> None:
        raise OSError("disk full")

    done: list[int] = []
    with pytest.raises(OSError, match="disk full"), SecondThread("worker") as thread:
        thread.submit(failing)
        thread.submit(done.append, 1)  # raises the first task's error instead of running
    assert done == []


def test_leaving_with_an_error_still_waits_for_the_running_task() -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[bool] = []

    def slow() -> None:
        started.set()
        release.wait(10)
        finished.append(True)

    with pytest.raises(KeyboardInterrupt), SecondThread("worker") as thread:
        thread.submit(slow)
        started.wait(10)
        threading.Timer(0.05, release.set).start()
        raise KeyboardInterrupt
    assert finished == [True]  # nothing runs after the caller has cleaned up
