# SPDX-License-Identifier: GPL-2.0
"""Go's context API in Python: trees, cancel with cause, deadlines,
values, context managers, and bad input."""

from __future__ import annotations

import datetime
import errno
import gc
import os
import time

import pytest

import ctxfd


def test_background_is_never_done_and_has_no_descriptor(bg):
    assert bg.err is None and bg.cause is None and bg.deadline is None
    assert bg.value("k") is None
    assert bg.fileno() == -1 and bg.id is None and bg.never_done
    assert ctxfd.todo() is bg
    with pytest.raises(PermissionError):
        bg.cancel()
    assert not bg.wait(0)


def test_cancel_reaches_the_whole_subtree_before_it_returns(bg):
    with ctxfd.with_cancel(bg) as root:
        a = ctxfd.with_cancel(root)
        b = ctxfd.with_timeout(a, 60)
        v = ctxfd.with_value(b, "k", "v")
        assert root.err is None and v.err is None
        root.cancel()
        for c in (root, a, b, v):
            assert isinstance(c.err, ctxfd.Canceled)
            assert c.err == ctxfd.Canceled()
            assert c.cause == ctxfd.Canceled()
            assert c.wait(0)
        for c in (v, b, a):
            c.close()


def test_canceling_a_child_leaves_parent_and_sibling_active(bg):
    with ctxfd.with_cancel(bg) as p, ctxfd.with_cancel(p) as a, ctxfd.with_cancel(p) as b:
        a.cancel()
        assert a.err == ctxfd.Canceled()
        assert p.err is None and b.err is None


def test_cause_is_recorded_by_the_first_cancel_only(bg):
    with ctxfd.with_cancel(bg) as p:
        c = ctxfd.with_cancel(p)
        p.cancel(ctxfd.Cause(42, "disk full"))
        p.cancel("second cancel changes nothing")
        assert isinstance(p.err, ctxfd.Canceled)
        assert p.cause == ctxfd.Cause(42, "disk full")
        assert p.err.cause == ctxfd.Cause(42, "disk full")
        # Descendants inherit err and cause.
        assert c.cause == ctxfd.Cause(42, "disk full")
        c.close()


@pytest.mark.parametrize("cause, code, message", [
    ("shutting down", ctxfd.CAUSE_CODE_DEFAULT, "shutting down"),
    (ValueError("bad input"), ctxfd.CAUSE_CODE_DEFAULT, "bad input"),
    (7, 7, ""),
])
def test_cause_from_message_exception_or_code(bg, cause, code, message):
    with ctxfd.with_cancel(bg) as c:
        c.cancel(cause)
        got = c.cause
        assert isinstance(got, ctxfd.Cause)
        assert (got.code, got.message) == (code, message)


def test_long_or_binary_cause_message_still_cancels(bg):
    with ctxfd.with_cancel(bg) as c:
        c.cancel("é" * 100 + "\0tail")  # 200+ bytes of UTF-8 and a NUL
        assert c.err == ctxfd.Canceled()
        msg = c.cause.message
        assert msg == "é" * 63  # cut at a character boundary, <= 127 bytes
        assert len(msg.encode()) <= 127


def test_timeout_ends_with_deadline_exceeded_and_its_cause(bg):
    t0 = time.monotonic()
    with ctxfd.with_timeout(bg, 0.05, cause="too slow") as c:
        assert c.deadline is not None
        assert t0 + 0.05 <= c.deadline <= time.monotonic() + 0.05
        assert c.wait(5)
        assert time.monotonic() >= c.deadline  # never early
        assert isinstance(c.err, ctxfd.DeadlineExceeded)
        assert isinstance(c.err, TimeoutError)
        assert c.cause == ctxfd.Cause(ctxfd.CAUSE_CODE_DEFAULT, "too slow")


def test_timeout_without_cause_has_err_as_cause(bg):
    with ctxfd.with_timeout(bg, datetime.timedelta(milliseconds=10)) as c:
        assert c.wait(5)
        assert c.cause == ctxfd.DeadlineExceeded()
        assert c.err.cause is not None


def test_zero_or_past_deadline_is_born_done(bg):
    with ctxfd.with_timeout(bg, 0) as a, ctxfd.with_timeout(bg, -5) as b, \
            ctxfd.with_deadline(bg, time.monotonic() - 1) as c:
        for x in (a, b, c):
            assert x.err == ctxfd.DeadlineExceeded()


def test_deadline_is_the_earliest_along_the_ancestors(bg):
    with ctxfd.with_timeout(bg, 10) as p:
        with ctxfd.with_timeout(p, 3600) as late, ctxfd.with_timeout(p, 1) as early:
            assert late.deadline == p.deadline
            assert early.deadline < p.deadline
        with ctxfd.with_value(p, "k", "v") as v:
            assert v.deadline == p.deadline


def test_with_deadline_takes_monotonic_seconds_or_a_datetime(bg):
    when = time.monotonic() + 30
    with ctxfd.with_deadline(bg, when) as c:
        assert abs(c.deadline - when) < 1e-6
    wall = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
    with ctxfd.with_deadline(bg, wall) as c:
        assert abs(c.deadline - (time.monotonic() + 30)) < 1


def test_values_nearest_binding_wins_and_nil_shadows(bg):
    with ctxfd.with_cancel(bg) as root:
        a = ctxfd.with_value(root, "user", "alice")
        b = ctxfd.with_value(a, b"trace", b"\x00\x01binary")
        c = ctxfd.with_value(b, "user", "bob")
        d = ctxfd.with_value(c, "user", None)
        assert a.value("user") == b"alice"
        assert b.value("user") == b"alice" and b.value("trace") == b"\x00\x01binary"
        assert c.value("user") == b"bob"
        assert d.value("user") is None and d.value("user", "dflt") == "dflt"
        assert d.value("trace") == b"\x00\x01binary"
        assert root.value("user") is None
        big = ctxfd.with_value(d, "big", b"x" * 3000)
        assert big.value("big") == b"x" * 3000  # longer than the first buffer
        # Values are done with their parent, and cannot cancel.
        with pytest.raises(PermissionError):
            c.cancel()
        root.cancel()
        assert d.err == ctxfd.Canceled()
        for x in (big, d, c, b, a):
            x.close()


def test_value_of_background_root_is_never_done(bg):
    with ctxfd.with_value(bg, "k", "v") as v:
        assert v.never_done and v.err is None and v.value("k") == b"v"


def test_without_cancel_keeps_values_but_is_never_done(bg):
    with ctxfd.with_cancel(bg) as p:
        v = ctxfd.with_value(p, "k", "v")
        w = ctxfd.without_cancel(v)
        child = ctxfd.with_cancel(w)
        p.cancel()
        assert v.err is not None
        assert w.err is None and w.never_done and w.deadline is None
        assert w.value("k") == b"v"
        assert child.err is None
        child.cancel()
        assert child.err == ctxfd.Canceled()
        for x in (child, w, v):
            x.close()


def test_with_block_exit_cancels_like_defer_cancel(bg):
    with ctxfd.with_cancel(bg) as p:
        with ctxfd.with_cancel(p) as c:
            watcher = ctxfd.from_fd(c.watch())
        assert c.closed and c.err == ctxfd.Canceled()  # final state kept
        assert watcher.err == ctxfd.Canceled()
        assert p.err is None
        watcher.close()


def test_closing_the_last_cancel_descriptor_cancels(bg):
    c = ctxfd.with_cancel(bg)
    w = ctxfd.from_fd(c.watch())
    del c
    gc.collect()  # the garbage collector closes it, the kernel cancels
    assert w.err == ctxfd.Canceled()
    w.close()


def test_a_child_keeps_its_parent_object_alive(bg):
    child = ctxfd.with_cancel(ctxfd.with_timeout(bg, 60))
    gc.collect()
    assert child.err is None  # the temporary parent was not closed
    assert child.deadline is not None
    child.cancel()
    child.close()


def test_err_is_a_new_exception_each_time(bg):
    with ctxfd.with_cancel(bg) as c:
        c.cancel("why")
        e1, e2 = c.err, c.err
        assert e1 is not e2 and e1 == e2
        with pytest.raises(ctxfd.Canceled) as info:
            raise e1
        assert info.value.cause == ctxfd.Cause(ctxfd.CAUSE_CODE_DEFAULT, "why")


def test_info_reports_kind_rights_and_tree(bg):
    with ctxfd.with_cancel(bg) as p, ctxfd.with_cancel(p) as c:
        i = c.info()
        assert i.kind == "cancel" and i.can_cancel and not i.done
        assert i.parent_id == p.id and i.depth == 1
        assert p.info().nr_children == 1
        w = ctxfd.from_fd(c.watch())
        assert not w.can_cancel and w.id == c.id
        with pytest.raises(PermissionError):
            w.cancel()
        w.close()
    assert "closed" in repr(c) and "background" in repr(bg)


def test_wait_times_out_on_an_active_context(bg):
    with ctxfd.with_cancel(bg) as c:
        t0 = time.monotonic()
        assert not c.wait(0.05)
        assert time.monotonic() - t0 >= 0.05
        c.cancel()
        assert c.wait(None)


@pytest.mark.parametrize("call, exc", [
    (lambda bg: ctxfd.with_cancel(None), TypeError),
    (lambda bg: ctxfd.with_timeout(bg, "5"), TypeError),
    (lambda bg: ctxfd.with_timeout(bg, float("nan")), ValueError),
    (lambda bg: ctxfd.with_value(bg, "", "v"), ValueError),
    (lambda bg: ctxfd.with_value(bg, 5, "v"), TypeError),
    (lambda bg: ctxfd.with_value(bg, "k", 5), TypeError),
    (lambda bg: ctxfd.Cause(0), ValueError),
    (lambda bg: ctxfd.Cause(2**31), ValueError),
    (lambda bg: ctxfd.Cause("1"), TypeError),
])
def test_bad_arguments_are_refused_clearly(bg, call, exc):
    with pytest.raises(exc):
        call(bg)


def test_bad_cause_type_is_refused_and_cancels_nothing(bg):
    with ctxfd.with_cancel(bg) as c:
        with pytest.raises(TypeError):
            c.cancel(3.5)
        assert c.err is None


def test_too_long_key_or_value_is_e2big(bg):
    with pytest.raises(OSError) as e:
        ctxfd.with_value(bg, "k" * 5000, "v")
    assert e.value.errno == errno.E2BIG
    with pytest.raises(OSError) as e:
        ctxfd.with_value(bg, "k", b"v" * (2 << 20))
    assert e.value.errno == errno.E2BIG


def test_from_fd_refuses_a_foreign_descriptor():
    r, w = os.pipe()
    try:
        with pytest.raises(OSError, match="not a ctxfd context"):
            ctxfd.from_fd(r)
    finally:
        os.close(r)
        os.close(w)


def test_closed_context_refuses_use(bg):
    c = ctxfd.with_cancel(bg)
    c.close()
    with pytest.raises(ValueError):
        c.fileno()
    with pytest.raises(ValueError):
        ctxfd.with_cancel(c)
    assert c.err == ctxfd.Canceled()  # closing the cancel fd canceled it
    c.close()  # idempotent


def test_fork_shares_the_context(bg):
    with ctxfd.with_cancel(bg) as c:
        pid = os.fork()
        if pid == 0:
            code = 0 if c.wait(10) and c.cause == ctxfd.Cause(5, "from parent") else 1
            os._exit(code)
        c.cancel(ctxfd.Cause(5, "from parent"))
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0


def test_empty_value_is_not_nil_or_is_refused_clearly(bg):
    """Go tells "" from nil. A kernel that can bind "" must read it back
    as b""; one that predates that refuses it with a clear error rather
    than binding nil."""
    try:
        v = ctxfd.with_value(bg, "k", b"")
    except OSError as e:
        assert e.errno == errno.EINVAL and "empty value" in str(e)
        return
    with v:
        assert v.value("k") == b""
