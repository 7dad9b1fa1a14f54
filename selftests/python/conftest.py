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
# Children run without site (-S): a Python start costs seconds in a TCG VM,
# most of it in site; they need nothing but the stdlib and lib/python.
PYC = [PY, "-S"]
TOP = os.environ.get("CTXFD_TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PKG = os.path.join(TOP, "lib", "python")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a Python child that imports ctxfd from the tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG
    env.pop("CTXFD", None)
    env.update(extra)
    return env


def in_fork(fn: Callable[[], Any]) -> int:
    """Run fn in a forked child (another process, sharing our descriptors,
    no exec: no interpreter start-up to pay); returns its exit code, 0 if
    fn returned without raising."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        except BaseException:  # report, never return into pytest
            import traceback
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def open_fds() -> set[int]:
    return {int(n) for n in os.listdir("/proc/self/fd")}


@pytest.fixture(scope="session", autouse=True)
def loops_warmed_up():
    """The first loop of each kind opens descriptors it keeps for the
    process's life (uvloop's signal pipe): open them before any test
    counts descriptors."""
    for kind in ("asyncio", "uvloop"):
        try:
            loop = _new_loop(kind)
        except pytest.skip.Exception:
            continue
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


@pytest.fixture(autouse=True)
def no_fd_leak(loops_warmed_up):
    """Every test leaves the process's descriptor table as it found it
    (once the garbage collector has closed what the test dropped; it runs
    only when needed: a collection costs a lot in a TCG VM)."""
    before = open_fds()
    yield
    if open_fds() - before:
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


