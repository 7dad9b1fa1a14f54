# SPDX-License-Identifier: GPL-2.0
"""Child processes under a context: the descriptor and CTXFD reach the
child, and the kernel tears its tree down when the context is done."""

from __future__ import annotations

import asyncio
import fcntl
import os
import select
import signal
import subprocess
import time

import pytest

import ctxfd
from conftest import PYC, child_env, in_fork

SHOW = """
import fcntl, os, ctxfd
fd = int(os.environ["CTXFD"])
ctx = ctxfd.from_env()
print(ctx.id, ctx.value("job"), ctx.can_cancel, ctx.deadline is not None,
      ctxfd.from_env() is ctx, "CTXFD" in os.environ,
      bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC), flush=True)
# Pass it on, as a nested ctxrun would: through exec, to a grandchild,
# which reads the context's id from the kernel's fdinfo.
fd = ctxfd.export_env(ctx)
os.execvp("sh", ["sh", "-c", 'sed -n "s/^ctxfd-id:[[:space:]]*//p" /proc/self/fdinfo/$CTXFD'])
"""


def test_child_and_grandchild_find_the_context_through_ctxfd(bg):
    """CTXFD reaches the child; from_env() adopts it once (close-on-exec,
    variable removed); export_env() passes it on through exec."""
    with ctxfd.with_timeout(bg, 60) as c, ctxfd.with_value(c, "job", "build") as v:
        r = ctxfd.run(v, PYC + ["-c", SHOW], env=child_env(), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        child, grandchild = r.stdout.splitlines()
        assert child.split() == [str(v.id), "b'build'", "False", "True", "True", "False", "True"]
        assert grandchild.strip() == str(v.id)


def test_run_returns_normally_when_the_context_stays_active(bg):
    with ctxfd.with_cancel(bg) as c:
        r = ctxfd.run(c, ["sh", "-c", "echo hi; exit 3"], capture_output=True)
        assert (r.returncode, r.stdout) == (3, b"hi\n")
        with pytest.raises(subprocess.CalledProcessError):
            ctxfd.run(c, ["false"], check=True)
        assert ctxfd.run(c, ["cat"], input=b"in", capture_output=True).stdout == b"in"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:  # gone, or going (ESRCH while reading)
        return False


def _wait_gone(pid: int, secs: float = 10) -> bool:
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.01)
    return False


def test_deadline_kills_the_child_and_run_raises(bg):
    """run() raises DeadlineExceeded, with the cause and the process."""
    with ctxfd.with_timeout(bg, 0.3, cause="too slow") as c:
        t0 = time.monotonic()
        with pytest.raises(ctxfd.DeadlineExceeded) as info:
            ctxfd.run(c, ["sleep", "30"])
        assert time.monotonic() - t0 < 20
        assert info.value.process.returncode == -signal.SIGKILL
        assert info.value.cause == ctxfd.Cause(ctxfd.CAUSE_CODE_DEFAULT, "too slow")


def test_teardown_kills_descendants_without_the_parent(bg, tmp_path):
    """The kernel signals the whole tree (here the shell's background job
    too), whoever cancels: here closing the last cancel fd does."""
    pidfile = tmp_path / "pid"
    c = ctxfd.with_cancel(bg)
    p = ctxfd.Popen(c, ["sh", "-c", f"sleep 30 & echo $! > {pidfile}; wait"])
    while not pidfile.exists() or not pidfile.read_text().strip():
        time.sleep(0.01)
    grandchild = int(pidfile.read_text())
    c.close()  # the kernel's defer cancel()
    assert p.wait(10) == -signal.SIGKILL
    assert _wait_gone(grandchild)


def _proc_status(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status") as f:
            return " ".join(l.strip() for l in f if l.startswith(("State", "Sig", "Shd")))
    except OSError as e:
        return str(e)


TERM = r"""
import os, signal, time
signal.signal(signal.SIGTERM, lambda *a: os.write(1, b"got TERM\n"))  # no buffer to re-enter
os.write(1, b"ready\n")
while True:
    time.sleep(1)
"""


def test_signal_then_grace_then_sigkill(bg):
    # A child that answers SIGTERM at once (a shell's trap would wait for
    # its current command) and stays: only the grace's SIGKILL ends it.
    with ctxfd.with_cancel(bg) as c:
        p = ctxfd.Popen(c, PYC + ["-c", TERM], signal=signal.SIGTERM, grace=1.5,
                        stdout=subprocess.PIPE)
        assert p.stdout is not None
        try:
            fd = p.stdout.fileno()
            assert os.read(fd, 6) == b"ready\n"
            c.cancel()
            out = b""
            end = time.monotonic() + 1.2  # within the grace period
            while b"got TERM" not in out and time.monotonic() < end:
                if select.select([fd], [], [], 0.05)[0]:
                    out += os.read(fd, 100)
            seen = _proc_status(p.pid)  # what the child looks like, if it did not answer
            out += p.stdout.read()
            p.wait(10)
            assert b"got TERM" in out, (out, p.returncode, seen)
            assert p.returncode == -signal.SIGKILL
        finally:
            c.cancel()  # whatever happened, the kernel ends the child
            p.stdout.close()
            p.wait(10)


def test_no_teardown_leaves_the_child_alone(bg):
    with ctxfd.with_cancel(bg) as c:
        p = ctxfd.Popen(c, ["sh", "-c", 'read x; echo "alive, $CTXFD"'], teardown=False,
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        c.cancel()
        out, _ = p.communicate("go\n", timeout=20)
        assert p.returncode == 0 and out.startswith("alive, ")


def test_child_of_background_gets_no_ctxfd(bg, monkeypatch):
    monkeypatch.setenv("CTXFD", "77")
    r = ctxfd.run(bg, ["sh", "-c", 'echo "${CTXFD-unset}"'], capture_output=True, text=True)
    assert r.stdout == "unset\n"


def test_popen_refuses_bad_teardown_options(bg):
    with ctxfd.with_cancel(bg) as c:
        with pytest.raises(ValueError):
            ctxfd.Popen(c, ["true"], grace=1)  # SIGKILL has no grace
        with pytest.raises(ValueError):
            ctxfd.Popen(c, ["true"], signal=0)
        with pytest.raises(TypeError):
            ctxfd.Popen(None, ["true"])


def _from_env_in_a_fork(value: str | None, check) -> int:
    def child():
        from ctxfd import _context
        _context._env_ctx = None  # a fresh process as far as from_env knows
        if value is None:
            os.environ.pop("CTXFD", None)
        else:
            os.environ["CTXFD"] = value
        check()
    return in_fork(child)


@pytest.mark.parametrize("value", ["abc", "-1", "999"])
def test_from_env_refuses_a_bad_variable(value):
    def check():
        with pytest.raises((ValueError, OSError)):
            ctxfd.from_env()
    assert _from_env_in_a_fork(value, check) == 0


def test_from_env_without_variable_is_background():
    def check():
        assert ctxfd.from_env() is ctxfd.background()
    assert _from_env_in_a_fork(None, check) == 0
    assert _from_env_in_a_fork("", check) == 0


def test_export_env_of_background_is_a_never_done_context(bg):
    env: dict = {}
    fd = ctxfd.export_env(bg, env)
    try:
        c = ctxfd.from_fd(os.dup(fd))
        assert env["CTXFD"] == str(fd) and c.err is None and not c.can_cancel
        c.close()
    finally:
        os.close(fd)


def test_the_shared_descriptor_keeps_its_flags(bg):
    """Waiting never sets O_NONBLOCK on a descriptor others share."""
    with ctxfd.with_cancel(bg) as c:
        before = fcntl.fcntl(c.fileno(), fcntl.F_GETFL)
        c.wait(0.01)
        asyncio.run(_wait_briefly(c))
        assert fcntl.fcntl(c.fileno(), fcntl.F_GETFL) == before


async def _wait_briefly(c):
    try:
        await asyncio.wait_for(c.done(), 0.01)
    except asyncio.TimeoutError:
        pass
