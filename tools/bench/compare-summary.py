#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tools/bench/compare: the table and build/bench/compare.json from the rounds.

  compare-summary.py DIR ROUNDS BASE NEW
"""
import json, statistics, sys

d, rounds, base_rev, new_rev = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = {m: [json.load(open(f"{d}/{m}-{r}.json")) for r in range(rounds)]
        for m in ("base", "new")}


def series(m, key, field):
    v = []
    for res in runs[m]:
        for f in res["figures"]:
            if (f["figure"], f["what"]) == key and f.get(field) is not None:
                v.append(f[field])
    return v


def cost(b, n, higher_better):
    """Percent by which n is worse than b: positive = slower."""
    return (b / n - 1) * 100 if higher_better else (n / b - 1) * 100


rows = []
for fig in runs["base"][0]["figures"]:
    key = (fig["figure"], fig["what"])
    vb, vn = series("base", key, "value"), series("new", key, "value")
    rb, rn = series("base", key, "ratio"), series("new", key, "ratio")
    if len(vb) != rounds or len(vn) != rounds:
        continue
    higher = "/s" in fig["unit"]
    row = {"figure": fig["figure"], "what": fig["what"], "unit": fig["unit"],
           "base": statistics.median(vb), "new": statistics.median(vn),
           "base_rounds": vb, "new_rounds": vn,
           "base_noise_pct": (max(vb) / min(vb) - 1) * 100}
    row["cost_pct"] = cost(row["base"], row["new"], higher)
    # Where the row's baseline is another mechanism measured in the same
    # runs (eventfd, timerfd, kill), the ratio cancels the host's speed
    # of the moment: its change is the cost that survives a slow host.
    # (Figure 4 compares ctxfd with itself: no such baseline.)
    target = fig.get("target") or ""
    if len(rb) == len(rn) == rounds and not fig["figure"].startswith("4"):
        ratio_higher = target.startswith(">=") or (not target and higher)
        row["base_ratio"] = statistics.median(rb)
        row["new_ratio"] = statistics.median(rn)
        row["ratio_cost_pct"] = cost(row["base_ratio"], row["new_ratio"],
                                     ratio_higher)
        row["base_ratio_noise_pct"] = (max(rb) / min(rb) - 1) * 100
    rows.append(row)
json.dump({"base": base_rev, "new": new_rev, "rounds": rounds,
           "kernel": runs["new"][0]["kernel"], "note": runs["new"][0]["note"],
           "rows": rows}, open(f"{d}/../../compare.json", "w"), indent=1)
print(f"# base {base_rev} vs new {new_rev}: medians over {rounds} rounds; "
      "cost: + is slower")
print(f"{'figure':<12} {'unit':<8} {'base':>10} {'new':>10} {'cost':>8} "
      f"{'noise':>7} {'ratio b':>8} {'ratio n':>8} {'r.cost':>8} "
      f"{'noise':>7}  what")
for r in rows:
    line = (f"{r['figure']:<12} {r['unit']:<8} {r['base']:>10.4g} "
            f"{r['new']:>10.4g} {r['cost_pct']:>+7.1f}% "
            f"{r['base_noise_pct']:>6.1f}%")
    if "ratio_cost_pct" in r:
        line += (f" {r['base_ratio']:>8.3f} {r['new_ratio']:>8.3f} "
                 f"{r['ratio_cost_pct']:>+7.1f}% "
                 f"{r['base_ratio_noise_pct']:>6.1f}%")
    else:
        line += f" {'-':>8} {'-':>8} {'-':>8} {'-':>7}"
    print(line + f"  {r['what']}")
