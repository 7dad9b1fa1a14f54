# SPDX-License-Identifier: GPL-2.0
"""asyncio: await ctx.done() and ctxfd.scope(), on asyncio's default loop
and on uvloop, with the reader removed once it fired."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest

import ctxfd
from conftest import count_reader_calls, settle


def test_done_returns_err_once_canceled(run, bg):
    async def main():
        with ctxfd.with_cancel(bg) as c:
            asyncio.get_running_loop().call_later(0.02, c.cancel, "stop")
            err = await c.done()
            assert isinstance(err, ctxfd.Canceled)
            assert err.cause == ctxfd.Cause(ctxfd.CAUSE_CODE_DEFAULT, "stop")
    run(main())


def test_done_of_a_done_context_returns_at_once(run, bg):
    async def main():
        with ctxfd.with_timeout(bg, 0) as c:
            assert isinstance(await asyncio.wait_for(c.done(), 5), ctxfd.DeadlineExceeded)
    run(main())


def test_reader_callbacks_stay_bounded_after_done(run, bg):
    """The fd is level-triggered: a reader left in place would run on
    every turn of the loop (thousands of times in 0.2 s)."""
    async def main():
        calls = count_reader_calls(asyncio.get_running_loop())
        with ctxfd.with_timeout(bg, 0.01) as c:
            waiters = [asyncio.ensure_future(c.done()) for _ in range(3)]
            async with ctxfd.scope(c) as s:
                await asyncio.sleep(10)
            await settle(0.2)
            assert all(w.done() for w in waiters) and s.expired
        assert 1 <= calls[0] <= 4, calls[0]  # once per waiter at most
    with pytest.raises(ctxfd.DeadlineExceeded):
        run(main())


def test_many_waiters_on_one_context_all_wake(run, bg):
    async def main():
        with ctxfd.with_cancel(bg) as c:
            waiters = [asyncio.ensure_future(c.done()) for _ in range(20)]
            await asyncio.sleep(0.01)
            assert not any(w.done() for w in waiters)
            c.cancel()
            errs = await asyncio.wait_for(asyncio.gather(*waiters), 5)
            assert all(isinstance(e, ctxfd.Canceled) for e in errs)
    run(main())


def test_cancelling_a_waiter_leaves_no_reader_or_fd_behind(run, bg):
    async def main():
        with ctxfd.with_cancel(bg) as c:
            t = asyncio.ensure_future(c.done())
            await asyncio.sleep(0.01)
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
        # no_fd_leak (conftest) checks the watch fd was closed
    run(main())


def test_done_of_a_never_done_context_waits_until_cancelled(run, bg):
    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(bg.done(), 0.05)
        with ctxfd.with_cancel(bg) as p, ctxfd.without_cancel(p) as w:
            p.cancel()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(w.done(), 0.05)
    run(main())


def test_scope_cancels_the_task_with_deadline_exceeded(run, bg):
    async def main():
        loop = asyncio.get_running_loop()
        with ctxfd.with_timeout(bg, 0.05, cause="budget spent") as c:
            t0 = loop.time()
            with pytest.raises(TimeoutError) as info:
                async with ctxfd.scope(c):
                    await asyncio.sleep(30)
            assert loop.time() - t0 < 20
            assert isinstance(info.value, ctxfd.DeadlineExceeded)
            assert info.value.cause == ctxfd.Cause(ctxfd.CAUSE_CODE_DEFAULT, "budget spent")
            assert info.value.__cause__ == info.value.cause
            assert asyncio.current_task().cancelling() == 0
            await asyncio.sleep(0)  # the task is usable again
    run(main())


def test_scope_that_ends_first_changes_nothing(run, bg):
    async def main():
        with ctxfd.with_cancel(bg) as c:
            async with ctxfd.scope(c) as s:
                await asyncio.sleep(0.01)
            assert not s.expired
            c.cancel()
            await settle(0.05)  # a stale reader would cancel us now
            await asyncio.sleep(0)
    run(main())


def test_scope_lets_other_cancellations_through(run, bg):
    async def main():
        with ctxfd.with_cancel(bg) as c:
            async def body():
                async with ctxfd.scope(c):
                    await asyncio.sleep(30)
            t = asyncio.ensure_future(body())
            await asyncio.sleep(0.01)
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            assert c.err is None
    run(main())


def test_scope_nests_with_asyncio_timeout(run, bg):
    async def main():
        with ctxfd.with_timeout(bg, 30) as c:
            with pytest.raises(TimeoutError) as info:
                async with ctxfd.scope(c):
                    async with asyncio.timeout(0.02):
                        await asyncio.sleep(30)
            assert not isinstance(info.value, ctxfd.ContextError)  # asyncio's
        with ctxfd.with_timeout(bg, 0.02) as c:
            with pytest.raises(ctxfd.DeadlineExceeded):
                async with asyncio.timeout(30):
                    async with ctxfd.scope(c):
                        await asyncio.sleep(30)
    run(main())


def test_scope_on_an_already_done_context_stops_at_the_first_await(run, bg):
    async def main():
        with ctxfd.with_cancel(bg) as c:
            c.cancel(ctxfd.Cause(3, "early"))
            reached = []
            with pytest.raises(ctxfd.Canceled) as info:
                async with ctxfd.scope(c):
                    reached.append(1)
                    await asyncio.sleep(10)
                    reached.append(2)
            assert reached == [1] and info.value.cause == ctxfd.Cause(3, "early")
    run(main())


def test_scope_is_a_timeout_that_crosses_processes(run, bg):
    """Another process holding the cancel fd ends this task's scope."""
    async def main():
        with ctxfd.with_cancel(bg) as c:
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:  # the other process: cancel, with a cause
                try:
                    time.sleep(0.05)
                    c.cancel(ctxfd.Cause(99, "cancelled by pid %d" % os.getpid()))
                finally:
                    os._exit(0)
            try:
                with pytest.raises(ctxfd.Canceled) as info:
                    async with ctxfd.scope(c):
                        await asyncio.sleep(30)
                assert info.value.cause == ctxfd.Cause(99, f"cancelled by pid {pid}")
            finally:
                os.waitpid(pid, 0)
    run(main())


def test_scope_refuses_misuse(bg):
    with pytest.raises(TypeError):
        ctxfd.scope(None)

    async def outside():
        s = ctxfd.scope(bg)
        async with s:
            pass
        with pytest.raises(RuntimeError):
            async with s:
                pass
    asyncio.run(outside())


def test_asyncio_subprocess_under_scope(run, bg):
    async def main():
        with ctxfd.with_cancel(bg) as c:
            proc = await ctxfd.create_subprocess_exec(c, "sleep", "30")
            asyncio.get_running_loop().call_later(0.05, c.cancel)
            with pytest.raises(ctxfd.Canceled):
                async with ctxfd.scope(c):
                    await proc.wait()
            # The kernel killed it when the context was canceled.
            assert await asyncio.wait_for(proc.wait(), 20) == -9
    run(main())
