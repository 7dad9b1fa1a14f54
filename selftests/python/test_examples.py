# SPDX-License-Identifier: GPL-2.0
"""The examples in lib/python/examples do what their docstrings say."""

from __future__ import annotations

import os
import subprocess
import time

import ctxfd
from conftest import PKG, PY, child_env

EX = os.path.join(PKG, "examples")


def test_run_tree_kills_the_tree_at_the_deadline():
    t0 = time.monotonic()
    r = subprocess.run([PY, os.path.join(EX, "run_tree.py"), "0.3", "sh", "-c", "sleep 30 | cat"],
                       env=child_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 124, r.stderr
    assert "context deadline exceeded (0.3 s is up)" in r.stderr
    assert time.monotonic() - t0 < 30


def test_run_tree_passes_the_exit_status_through():
    r = subprocess.run([PY, os.path.join(EX, "run_tree.py"), "30", "sh", "-c", "exit 7"],
                       env=child_env(), timeout=60)
    assert r.returncode == 7


def test_worker_stops_with_its_parents_cause(bg):
    with ctxfd.with_cancel(bg) as ctx:
        p = ctxfd.Popen(ctx, [PY, os.path.join(EX, "worker.py")], env=child_env(),
                        stdout=subprocess.PIPE, text=True, teardown=False)
        assert p.stdout is not None
        assert p.stdout.readline() == "step 1 done\n"
        ctx.cancel(ctxfd.Cause(15, "shutting down"))
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 1
        assert out.splitlines()[-1] == "stopped: context canceled, cause: shutting down"
