# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the Python binding's tests."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from typing import Any, Callable, Coroutine

import pytest

import ctxfd

PY = sys.executable
TOP = os.environ.get("CTXFD_TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PKG = os.path.join(TOP, "lib", "python")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a Python child that imports ctxfd from the tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG
    env.pop("CTXFD", None)
    env.update(extra)
    return env


def open_fds() -> set[int]:
    return {int(n) for n in os.listdir("/proc/self/fd")}


@pytest.fixture(autouse=True)
def no_fd_leak():
    """Every test leaves the process's descriptor table as it found it."""
    gc.collect()
    before = open_fds()
    yield
    gc.collect()
    after = open_fds()
    leaked = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in after - before
              if os.path.exists(f"/proc/self/fd/{fd}")}
    assert not leaked, f"descriptors left open: {leaked}"


def _new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: Any) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """run(coro): run a coroutine to its end in a new loop, asyncio's
    default one or uvloop's."""
    kind = request.param

    def runner(coro: Coroutine[Any, Any, Any]) -> Any:
        loop = _new_loop(kind)
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    runner.kind = kind  # type: ignore[attr-defined]
    return runner


@pytest.fixture
def bg() -> ctxfd.Context:
    return ctxfd.background()


def count_reader_calls(loop: asyncio.AbstractEventLoop) -> list[int]:
    """Wrap loop.add_reader so that every call of every reader callback
    registered from now on is counted in the returned one-item list."""
    calls = [0]
    orig = loop.add_reader

    def add_reader(fd: int, cb: Callable[..., Any], *args: Any) -> Any:
        def counted(*a: Any) -> Any:
            calls[0] += 1
            return cb(*a)
        return orig(fd, counted, *args)

    loop.add_reader = add_reader  # type: ignore[method-assign]
    return calls


async def settle(seconds: float = 0.2) -> None:
    """Let the loop turn for a while (callbacks of a readable fd would run
    on every turn if nobody removed them)."""
    end = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < end:
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)


