"""Reads `netmatch bench verdicts --out` records and prints, per record, the confusion matrix and the
families that were not all right; with `--pooled`, also the verdict the rule of main at 910d2f4 would
have given the same pairs: the pooled regressions alone (`local.pooled_verdict`) plus that rule's
constant-fraction test (|constant_a − constant_b| > 5 % → not_equivalent). Use it on a record made
with `--unknown-design` to reproduce the old rule's d as well.

    python benches/verdict_records.py RECORD.json [RECORD.json …] [--pooled]
    python benches/verdict_records.py --slim RECORD.json OUT.json
"""

import json
import sys
from collections import Counter, defaultdict


def old_rule(r):
    rep = r.get("report")
    if rep is None and "pooled_verdict" not in r:
        return "error"
    v = rep["local"]["pooled_verdict"] if rep else r["pooled_verdict"]
    c = rep["locally_constant_fraction"] if rep else r["locally_constant_fraction"]
    return "not_equivalent" if abs(c["a"] - c["b"]) > 0.05 else v


def show(path, pooled):
    d = json.load(open(path))
    for label, pick in [("this rule", lambda r: r["verdict"])] + ([("rule of 910d2f4", old_rule)] if pooled else []):
        conf, fam = Counter(), defaultdict(list)
        for r in d["results"]:
            v = pick(r)
            conf[(r["truth"], v)] += 1
            fam[r["family"]].append((r["truth"], v))
        right = sum(n for (t, v), n in conf.items() if t == v)
        false_eq = sum(n for (t, v), n in conf.items() if t != "equivalent" and v == "equivalent")
        inc = sum(n for (t, v), n in conf.items() if v == "inconclusive")
        print(f"{path} [{label}] seed {d['seed']} unknown_design={d.get('unknown_design', False)}: "
              f"{right}/{len(d['results'])} right, {false_eq} false equivalent, {inc} inconclusive")
        for truth in ("equivalent", "not_equivalent"):
            row = [conf[(truth, v)] for v in ("equivalent", "not_equivalent", "inconclusive", "error")]
            print(f"  {truth:<15} eq {row[0]:>3}  not_eq {row[1]:>3}  inconcl {row[2]:>3}  error {row[3]:>3}")
        for f, vs in fam.items():
            wrong = [v for t, v in vs if t != v]
            if wrong:
                print(f"  {f}: {len(vs) - len(wrong)}/{len(vs)} ({', '.join(v for _, v in vs)})")


def slim(path, out):
    """The record without the full reports: per case the verdict, the pooled verdict, the regions, d and
    the fold RMSEs (what the tables above read), ≈ 10× smaller, for BENCHMARKS.md's records."""
    d = json.load(open(path))
    for r in d["results"]:
        rep = r.pop("report", None)
        if rep:
            r["pooled_verdict"] = rep["local"]["pooled_verdict"]
            r["local"] = {k: rep["local"][k] for k in ("regions", "region_fraction", "flagged_fraction")}
            r["intrinsic_dimension"] = rep["intrinsic_dimension"]
            r["locally_constant_fraction"] = rep["locally_constant_fraction"]
            r["direct_rmse_ab"] = rep["stability"]["direct_rmse_ab"]
            r["direct_rmse_ba"] = rep["stability"]["direct_rmse_ba"]
            r["reasons"] = rep["reasons"]
    json.dump(d, open(out, "w"), indent=1, ensure_ascii=False)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--slim" in sys.argv:
        slim(*args)
    else:
        for p in args:
            show(p, "--pooled" in sys.argv)

