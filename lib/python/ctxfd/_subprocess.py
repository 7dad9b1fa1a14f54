# SPDX-License-Identifier: LGPL-2.1-or-later
"""Child processes under a context.

The child gets a watch-only descriptor on the context (pass_fds) named by
CTXFD, so ctxfd.from_env(), libctxfd's ctx_from_env() or a nested ctxrun
find it. With teardown (the default), the kernel also signals the child
and every descendant it still has when the context is done
(CTXFD_IOC_ATTACH), whether this process is still there or not.
"""

from __future__ import annotations

import asyncio
import os
import signal as _signal
import subprocess
from typing import Any, Dict, Optional, Sequence, Tuple, Union

from . import _uapi
from ._context import Context

_Args = Union[str, bytes, "os.PathLike[str]", Sequence[Union[str, bytes, "os.PathLike[str]"]]]


def _prepare(ctx: Context, kwargs: Dict[str, Any]) -> Optional[int]:
    """Add the context's descriptor and CTXFD to subprocess keyword
    arguments; returns the descriptor to close after the start."""
    if not isinstance(ctx, Context):
        raise TypeError(f"the first argument must be a ctxfd.Context, not {type(ctx).__name__}")
    env = kwargs.get("env")
    env = dict(os.environ if env is None else env)
    env.pop(_uapi.ENV, None)
    if ctx.fileno() == -1:  # background(): nothing to pass, nothing fires
        kwargs["env"] = env
        return None
    fd = ctx.watch()
    kwargs["pass_fds"] = tuple(kwargs.get("pass_fds", ())) + (fd,)
    env[_uapi.ENV] = str(fd)
    kwargs["env"] = env
    return fd


def _teardown_flags(descendants: bool) -> int:
    return _uapi.ATTACH_DESCENDANTS if descendants else 0


def _check_teardown(sig: int, grace: Optional[float]) -> Tuple[int, int]:
    sig = int(sig)
    if not 1 <= sig <= _signal.SIGRTMAX:
        raise ValueError(f"bad signal {sig}")
    if grace is None or grace <= 0:
        return sig, 0
    if sig == _signal.SIGKILL:
        raise ValueError("a grace period follows a signal other than SIGKILL")
    ns = int(grace * 1e9)
    if ns > _uapi.ATTACH_GRACE_MAX_NS:
        raise ValueError("the grace period is at most a day")
    return sig, ns


def _attach(ctx: Context, pid: int, sig: int, grace_ns: int, descendants: bool) -> None:
    try:
        _uapi.attach(ctx._fileno(), pid, sig, grace_ns, _teardown_flags(descendants))
    except ProcessLookupError:
        pass  # already gone: nothing left to tear down


class Popen(subprocess.Popen):  # type: ignore[type-arg]
    """subprocess.Popen(args, **kwargs) under ctx.

    teardown: when ctx is done, the kernel sends ``signal`` (default
    SIGKILL, as subprocess.run's timeout does) to the child and, with
    ``descendants`` (default), to every process below it; with a
    ``grace`` period (seconds), SIGKILL follows for whatever is left.
    Processes that left the child's tree (double-forked daemons) escape
    unless the child is a subreaper such as ctxrun.
    """

    def __init__(self, ctx: Context, args: _Args, *, teardown: bool = True,
                 signal: int = _signal.SIGKILL, grace: Optional[float] = None,
                 descendants: bool = True, **kwargs: Any) -> None:
        sig, grace_ns = _check_teardown(signal, grace)
        fd = _prepare(ctx, kwargs)
        self.ctx = ctx
        try:
            super().__init__(args, **kwargs)
        finally:
            if fd is not None:
                os.close(fd)
        if teardown and fd is not None:
            try:
                _attach(ctx, self.pid, sig, grace_ns, descendants)
            except BaseException:
                self.kill()
                self.wait()
                raise


def run(ctx: Context, args: _Args, *, input: Any = None, capture_output: bool = False,
        timeout: Optional[float] = None, check: bool = False, **kwargs: Any
        ) -> "subprocess.CompletedProcess[Any]":
    """subprocess.run() under ctx (see Popen for teardown and its options).

    If ctx is done by the time the child has exited and the child did not
    exit 0, ctx's error is raised (Canceled or DeadlineExceeded, with
    ``.cause``), the CompletedProcess attached as its ``.process``: the
    child failed because its context ended. Otherwise, as subprocess.run().
    """
    if capture_output:
        if kwargs.get("stdout") is not None or kwargs.get("stderr") is not None:
            raise ValueError("stdout and stderr arguments may not be used with capture_output")
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    if input is not None:
        if kwargs.get("stdin") is not None:
            raise ValueError("stdin and input arguments may not both be used")
        kwargs["stdin"] = subprocess.PIPE
    with Popen(ctx, args, **kwargs) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        except BaseException:
            proc.kill()
            raise
        code = proc.poll()
    assert code is not None
    result: "subprocess.CompletedProcess[Any]" = subprocess.CompletedProcess(proc.args, code, out, err)
    if code != 0:
        cerr = ctx.err if ctx.fileno() != -1 else None
        if cerr is not None:
            cerr.process = result  # type: ignore[attr-defined]
            raise cerr
    if check:
        result.check_returncode()
    return result


async def create_subprocess_exec(ctx: Context, program: Union[str, bytes, "os.PathLike[str]"],
                                 *args: Union[str, bytes, "os.PathLike[str]"],
                                 teardown: bool = True, signal: int = _signal.SIGKILL,
                                 grace: Optional[float] = None, descendants: bool = True,
                                 **kwargs: Any) -> asyncio.subprocess.Process:
    """asyncio.create_subprocess_exec() under ctx (see Popen)."""
    sig, grace_ns = _check_teardown(signal, grace)
    fd = _prepare(ctx, kwargs)
    try:
        proc = await asyncio.create_subprocess_exec(program, *args, **kwargs)
    finally:
        if fd is not None:
            os.close(fd)
    if teardown and fd is not None:
        try:
            _attach(ctx, proc.pid, sig, grace_ns, descendants)
        except BaseException:
            proc.kill()
            await proc.wait()
            raise
    return proc
