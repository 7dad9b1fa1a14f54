# SPDX-License-Identifier: GPL-2.0
"""Child processes under a context: the descriptor and CTXFD reach the
child, and the kernel tears its tree down when the context is done."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import subprocess
import time

import pytest

import ctxfd
from conftest import PY, child_env

SHOW = """
import ctxfd
ctx = ctxfd.from_env()
print(ctx.id, ctx.value("job"), ctx.can_cancel, ctx.deadline is not None)
"""


def test_child_finds_its_context_through_ctxfd(bg):
    with ctxfd.with_timeout(bg, 60) as c, ctxfd.with_value(c, "job", "build") as v:
        r = ctxfd.run(v, [PY, "-c", SHOW], env=child_env(), capture_output=True, text=True,
                      check=True)
        assert r.stdout.split() == [str(v.id), "b'build'", "False", "True"]


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
    except FileNotFoundError:
        return False


def _wait_gone(pid: int, secs: float = 10) -> bool:
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.01)
    return False


def test_deadline_kills_the_child_and_its_descendants(bg, tmp_path):
    """run() raises DeadlineExceeded; the grandchild (a background job of
    the shell) is gone too."""
    pidfile = tmp_path / "pid"
    script = f"sleep 30 & echo $! > {pidfile}; wait"
    with ctxfd.with_timeout(bg, 0.3, cause="too slow") as c:
        t0 = time.monotonic()
        with pytest.raises(ctxfd.DeadlineExceeded) as info:
            ctxfd.run(c, ["sh", "-c", script])
        assert time.monotonic() - t0 < 20
        assert info.value.process.returncode == -signal.SIGKILL
        assert info.value.cause == ctxfd.Cause(ctxfd.CAUSE_CODE_DEFAULT, "too slow")
    assert _wait_gone(int(pidfile.read_text()))


def test_teardown_needs_no_parent_process(bg, tmp_path):
    """The kernel signals the tree even if the process that attached it
    exited: here the cancel comes from closing the last cancel fd."""
    pidfile = tmp_path / "pid"
    c = ctxfd.with_cancel(bg)
    p = ctxfd.Popen(c, ["sh", "-c", f"sleep 30 & echo $! > {pidfile}; wait"])
    while not pidfile.exists() or not pidfile.read_text().strip():
        time.sleep(0.01)
    grandchild = int(pidfile.read_text())
    c.close()  # the kernel's defer cancel()
    assert p.wait(10) == -signal.SIGKILL
    assert _wait_gone(grandchild)


def test_signal_then_grace_then_sigkill(bg, tmp_path):
    trap = "trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.05; done"
    with ctxfd.with_cancel(bg) as c:
        p = ctxfd.Popen(c, ["sh", "-c", trap], signal=signal.SIGTERM, grace=0.3,
                        stdout=subprocess.PIPE, text=True)
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
        c.cancel()
        out, _ = p.communicate(timeout=10)
        assert "got TERM" in out
        assert p.returncode == -signal.SIGKILL


def test_no_teardown_leaves_the_child_alone(bg):
    with ctxfd.with_cancel(bg) as c:
        p = ctxfd.Popen(c, [PY, "-c", "import ctxfd,sys; c=ctxfd.from_env(); c.wait(10); "
                            "print(type(c.err).__name__)"],
                        teardown=False, env=child_env(), stdout=subprocess.PIPE, text=True)
        c.cancel()
        out, _ = p.communicate(timeout=20)
        assert (p.returncode, out) == (0, "Canceled\n")  # it saw the cancel, and chose


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


EXPORT = """
import os, ctxfd
fd = ctxfd.export_env(ctxfd.from_env())  # pass it on, like a nested ctxrun
os.execvp("sh", ["sh", "-c", 'echo "$CTXFD"; exec {py} -c "import ctxfd; print(ctxfd.from_env().id)"'])
"""


def test_export_env_reaches_a_grandchild_through_exec(bg):
    with ctxfd.with_cancel(bg) as c:
        r = ctxfd.run(c, [PY, "-c", EXPORT.replace("{py}", PY)], env=child_env(),
                      capture_output=True, text=True, check=True)
        fdnum, ident = r.stdout.split()
        assert int(fdnum) >= 0 and int(ident) == c.id


def test_from_env_adopts_once_and_clears_the_variable(bg):
    code = """
import os, fcntl, ctxfd
fd = int(os.environ["CTXFD"])
a = ctxfd.from_env(); b = ctxfd.from_env()
print(a is b, "CTXFD" in os.environ, bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC))
"""
    with ctxfd.with_cancel(bg) as c:
        r = ctxfd.run(c, [PY, "-c", code], env=child_env(), capture_output=True, text=True,
                      check=True)
        assert r.stdout.split() == ["True", "False", "True"]


@pytest.mark.parametrize("value", ["abc", "-1", "999"])
def test_from_env_refuses_a_bad_variable(value):
    code = "import ctxfd\ntry:\n ctxfd.from_env()\nexcept (ValueError, OSError) as e:\n print(type(e).__name__)"
    r = subprocess.run([PY, "-c", code], env=child_env(CTXFD=value), capture_output=True,
                       text=True, check=True)
    assert r.stdout.strip() in ("ValueError", "OSError")


def test_from_env_without_variable_is_background():
    r = subprocess.run([PY, "-c", "import ctxfd; print(ctxfd.from_env() is ctxfd.background())"],
                       env=child_env(), capture_output=True, text=True, check=True)
    assert r.stdout == "True\n"


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
