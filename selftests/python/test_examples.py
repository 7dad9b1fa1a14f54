# SPDX-License-Identifier: GPL-2.0
"""The examples in lib/python/examples do what their docstrings say."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import time

import pytest

import ctxfd
from conftest import PKG, PYC, child_env

EX = os.path.join(PKG, "examples")


def _run_tree(*args: str) -> int:
    old = sys.argv
    sys.argv = ["run_tree.py", *args]
    try:
        with pytest.raises(SystemExit) as e:
            runpy.run_path(os.path.join(EX, "run_tree.py"), run_name="__main__")
        return int(e.value.code or 0)
    finally:
        sys.argv = old


def test_run_tree_kills_the_tree_at_the_deadline(capsys):
    t0 = time.monotonic()
    assert _run_tree("0.3", "sh", "-c", "sleep 30 | cat") == 124
    assert "context deadline exceeded (0.3 s is up)" in capsys.readouterr().err
    assert time.monotonic() - t0 < 30


def test_run_tree_passes_the_exit_status_through():
    assert _run_tree("30", "sh", "-c", "exit 7") == 7


def test_worker_stops_with_its_parents_cause(bg):
    with ctxfd.with_cancel(bg) as ctx:
        p = ctxfd.Popen(ctx, PYC + [os.path.join(EX, "worker.py")], env=child_env(),
                        stdout=subprocess.PIPE, text=True, teardown=False)
        assert p.stdout is not None
        assert p.stdout.readline() == "step 1 done\n"
        ctx.cancel(ctxfd.Cause(15, "shutting down"))
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 1
        assert out.splitlines()[-1] == "stopped: context canceled, cause: shutting down"
