#!/usr/bin/python3
"""Percentiles for bench/run.sh.

usage: stats.py hyperfine FILE.json   -> "p50_ms<TAB>p99_ms" of the runs
Nearest-rank percentiles over hyperfine's per-run times (whole process)."""
import json
import math
import sys


def pct(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    k = max(1, min(len(v), math.ceil(p / 100.0 * len(v))))
    return v[k - 1]


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "hyperfine":
        sys.exit(__doc__)
    try:
        times = json.load(open(sys.argv[2]))["results"][0]["times"]
    except (OSError, ValueError, KeyError, IndexError):
        print("-\t-")  # the run failed: the table shows a dash
        return
    ms = [t * 1000 for t in times]
    print("%.2f\t%.2f" % (pct(ms, 50), pct(ms, 99)))


if __name__ == "__main__":
    main()
