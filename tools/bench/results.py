#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's results on the host: spreads, repeats, host load, table.

  results.py unsteady FILE BOUND     figures (ids) with a row whose ratio
                                     spread exceeds BOUND (a fraction)
  results.py merge OUT FILE...       one results file from several
                                     attempts: per row, the attempt with the
                                     smallest ratio spread; every attempt's
                                     spread is kept in "attempts"
  results.py host FILE LOAD BUSY0 BUSY1 STEAL0 STEAL1 TOTAL0 TOTAL1 KIDS0 KIDS1
                                     what else the host did, from its
                                     /proc/stat ticks (busy, steal, total)
                                     and the VM's (its reaped children's)
                                     before and after: records it and
                                     prints "OTHERS% STEAL% BUSY(0/1)"
  results.py drifted FILE            figures (ids) whose row kept in FILE
                                     ran while the host changed speed
  results.py table FILE              the table, as ctxfd-bench prints it

A row's ratio spread is (ratio_max - ratio_min) / ratio over its runs:
what the verdict is worth. Rows without a target never ask for a repeat.
A row's drift is how far the host's speed moved between the probes
ctxfd-bench takes before and after its figure (host_speed.drift_pct);
beyond CTXFD_BENCH_DRIFT percent (default 15) the figure is run again,
as for a wide spread, and an attempt without drift is kept first.
"""
import json
import os
import sys


def spread(row):
    r, lo, hi = row.get("ratio"), row.get("ratio_min"), row.get("ratio_max")
    if r in (None, 0) or lo is None or hi is None:
        return 0.0
    return (hi - lo) / abs(r)


def drift_bound():
    try:
        return float(os.environ.get("CTXFD_BENCH_DRIFT") or 15)
    except ValueError:
        sys.exit("results.py: CTXFD_BENCH_DRIFT is not a number")


def drift(row):
    """How far the host's speed moved during the row's figure (percent)."""
    d = (row.get("host_speed") or {}).get("drift_pct")
    return float(abs(d)) if isinstance(d, (int, float)) else 0.0


def drifted(row):
    return drift(row) > drift_bound()


def load(path):
    with open(path) as f:
        return json.load(f)


def save(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def figure_ids(rows, pick):
    """The figures (ids, in row order) with a row that @pick accepts."""
    ids = []
    for row in rows:
        fig = row["figure"].split("/")[0]
        if pick(row) and fig not in ids:
            ids.append(fig)
    return ids


def unsteady(path, bound):
    print(" ".join(figure_ids(
        load(path)["figures"],
        lambda row: row.get("target") is not None and
        (spread(row) > bound or drifted(row)))))


def drifted_figures(path):
    print(" ".join(figure_ids(load(path)["figures"], drifted)))


def merge(out, paths):
    attempts = [load(p) for p in paths]
    base = attempts[0]
    order, best, seen = [], {}, {}
    for n, res in enumerate(attempts):
        for row in res["figures"]:
            key = (row["figure"], row["what"])
            if key not in best:
                order.append(key)
                seen[key] = []
            seen[key].append({"attempt": n + 1,
                              "ratio": row.get("ratio"),
                              "spread": round(spread(row), 4),
                              "drift_pct": round(drift(row), 1)})
            # A steady host first, then the tightest spread.
            rank = (drifted(row), spread(row))
            if key not in best or rank < (drifted(best[key]),
                                          spread(best[key])):
                best[key] = row
    rows = []
    for key in order:
        row = dict(best[key])
        row["spread"] = round(spread(row), 4)
        row["attempts"] = seen[key]
        rows.append(row)
    base["figures"] = rows
    base["attempts"] = len(attempts)
    base["seconds"] = sum(a.get("seconds", 0) for a in attempts)
    save(out, base)


def host(path, load_avg, b0, b1, s0, s1, t0, t1, k0, k1):
    b0, b1, s0, s1, t0, t1, k0, k1 = map(int, (b0, b1, s0, s1, t0, t1, k0, k1))
    total = max(t1 - t0, 1)
    # CPU the host spent outside this run (the VM is among its children).
    others = max(b1 - b0 - (k1 - k0), 0) * 100 / total
    steal = (s1 - s0) * 100 / total
    busy = others > 10 or steal > 5
    print(f"{others:.1f} {steal:.1f} {int(busy)}")
    res = load(path)
    res["host"] = {"others_cpu_pct": round(others, 1),
                   "steal_pct": round(steal, 1),
                   "load_at_start": load_avg, "busy": busy}
    for row in res["figures"]:
        row.setdefault("spread", round(spread(row), 4))
    save(path, res)


def table(path):
    res = load(path)
    print(f"\n{'figure':<10} {'what':<44} {'unit':<6} {'ctxfd':>12} "
          f"{'baseline':>12} {'ratio':>8} {'ratio min..max':<17} "
          f"{'target':<7} {'pass':<5} {'tries':>5}")
    num = lambda v, f: format(v, f) if isinstance(v, (int, float)) else "-"
    for row in res["figures"]:
        target = row.get("target")
        if target is None:
            verdict = "-"
        elif row.get("fail_reason"):
            verdict = "FAIL*"
        else:
            verdict = "pass" if row.get("pass") else "FAIL"
        rng = (f"{num(row.get('ratio_min'), '.3f')}.."
               f"{num(row.get('ratio_max'), '.3f')}")
        print(f"{row['figure']:<10} {row['what'][:44]:<44} "
              f"{row['unit']:<6} {num(row.get('value'), '12.4g')} "
              f"{num(row.get('baseline'), '12.4g')} "
              f"{num(row.get('ratio'), '8.3f')} {rng:<17} "
              f"{target or '-':<7} {verdict:<5} "
              f"{len(row.get('attempts', [1])):>5}")
        if row.get("fail_reason"):
            print(f"{'':<10}   * {row['fail_reason']}")
    moved = figure_ids(res["figures"], drifted)
    if moved:
        print(f"# the host changed speed by more than {drift_bound():g}% "
              f"during figure(s) {' '.join(moved)} (host_speed in the file)")
    h = res.get("host")
    if h:
        print(f"# host: other processes used {h['others_cpu_pct']:.1f}% of "
              f"the CPUs, steal {h['steal_pct']:.1f}%"
              f"{' (BUSY: rerun on a quiet host)' if h['busy'] else ''}")


def main(argv):
    if len(argv) >= 3 and argv[1] == "unsteady":
        unsteady(argv[2], float(argv[3]))
    elif len(argv) >= 4 and argv[1] == "merge":
        merge(argv[2], argv[3:])
    elif len(argv) == 12 and argv[1] == "host":
        host(*argv[2:])
    elif len(argv) == 3 and argv[1] == "drifted":
        drifted_figures(argv[2])
    elif len(argv) == 3 and argv[1] == "table":
        table(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
