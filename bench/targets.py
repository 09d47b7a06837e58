"""Issue 12's targets next to what one run of bench/run measured, and how each figure grows
with the dataset. Reads the run's rows (engine|Fabriques|kind|...) on stdin, writes Markdown."""

import sys
from collections import defaultdict

rows = [line.rstrip("\n").split("|") for line in sys.stdin if line.strip()]
latency = {}  # (engine, n, label) -> (p50, p95, p99, rps)
lean, one, pgbench, mixed, export, idle = {}, {}, {}, {}, {}, {}
scaleout, hooks, cache = {}, {}, {}  # the two-instance step: (engine, n) -> ...
for r in rows:
    engine, n, kind = r[0], int(r[1]), r[2]
    key = (engine, n)
    if kind == "lean":
        lean[key + (r[3],)] = float(r[8])
    elif kind == "one":
        one[key + (r[3],)] = float(r[4])  # p50, ms
    elif kind == "pgbench":
        pgbench[key + (r[3].split(" ")[1] if r[3].startswith("the ") else "one",)] = float(r[4])
    elif kind == "mixed":
        mixed[key] = dict(p99=float(r[5]), rps=float(r[6]), fivexx=int(r[7]),
                          errors=int(r[8]) - int(r[7]) + int(r[10]))
    elif kind == "export":
        export[key] = (float(r[5]), float(r[6]))
    elif kind == "idle":
        idle[key] = float(r[3])
    elif kind == "scaleout":
        scaleout.setdefault(key, {})[r[3]] = float(r[4])
    elif kind == "scaleout-hooks":
        hooks[key] = dict(fivexx=int(r[3]), delivered=int(r[4]), received=int(r[5]),
                          events=int(r[6]), twice=int(r[7]))
    elif kind == "scaleout-cache":
        cache[key] = (r[3], r[4])
    elif kind not in ("seed",):
        latency[key + (kind,)] = tuple(float(x) for x in r[3:7])

GET, LIST = "GET by id", "list page of 50: status=running"
checks = []  # (target, engine, n, measured, ok)


def check(target, engine, n, measured, ok):
    checks.append((target, engine, n, measured, "yes" if ok else "**no**"))


datasets = sorted({k[:2] for k in lean} | {k for k in idle}, key=lambda k: (k[0], k[1]))
for engine, n in datasets:
    k = (engine, n)
    if engine == "postgres":
        if k + ("one",) in pgbench and k + (GET,) in lean:
            r = lean[k + (GET,)] / pgbench[k + ("one",)]
            check("GET one ≥ 50 % of pgbench's one statement", engine, n, f"{r:.0%}", r >= 0.5)
        if k + ("list",) in pgbench and k + (LIST,) in lean:
            r = lean[k + (LIST,)] / pgbench[k + ("list",)]
            check("list page ≥ 40 % of pgbench replaying its statements", engine, n, f"{r:.0%}", r >= 0.4)
    if engine == "sqlite":
        for label, name in ((GET, "GET one"), (LIST, "list page")):
            pg = lean.get(("postgres", n, label))
            if pg and k + (label,) in lean:
                r = lean[k + (label,)] / pg
                check(f"SQLite {name} ≥ PostgreSQL", engine, n, f"{r:.2f}×", r >= 1)
    limits = {("sqlite", GET): 0.5, ("postgres", GET): 0.8, ("sqlite", LIST): 1.5, ("postgres", LIST): 2.5}
    for label, name in ((GET, "GET one"), (LIST, "list page")):
        if k + (label,) in one:
            lim = limits[(engine, label)]
            check(f"{name} at one connection ≤ {lim} ms (p50)", engine, n, f"{one[k + (label,)]:.2f} ms",
                  one[k + (label,)] <= lim)
    if n >= 10000:
        lim = 50 if n <= 10000 else 200
        computed = sorted(l for (e, m, l) in latency if (e, m) == k and l.endswith("(cache off)"))
        for label in computed:
            if k + (label,) in latency:
                p95 = latency[k + (label,)][1]
                check(f"{label.split(' (')[0]} p95 < {lim} ms, cache off", engine, n, f"{p95:.1f} ms", p95 < lim)
    if k in mixed and k + (GET,) in lean:
        m = mixed[k]
        r = m["rps"] / lean[k + (GET,)]
        check("mixed load ≥ 50 % of GET one, 0 5xx, p99 < 100 ms", engine, n,
              f"{r:.0%}, {m['fivexx']} 5xx, {m['errors']} other errors, p99 {m['p99']:.0f} ms",
              r >= 0.5 and m["fivexx"] == 0 and m["p99"] < 100)
    if k in idle:
        check("idle RSS < 30 MiB", engine, n, f"{idle[k]:.1f} MiB", idle[k] < 30)
    if k in export:
        rps, peak = export[k]
        check("seminars export ≥ 100,000 rows/s, peak RSS < 64 MiB", engine, n,
              f"{rps:,.0f} rows/s, {peak:.1f} MiB", rps >= 100000 and peak < 64)

for (engine, n), t in sorted(scaleout.items()):
    a, b = t.get("side by side (A)"), t.get("side by side (B)")
    if a and b:
        r = min(a, b) / max(a, b)
        check("two instances: the same throughput per instance within 20 %", engine, n,
              f"{a:,.0f} and {b:,.0f} req/s side by side ({r:.0%}); alone "
              f"{t.get('one instance alone (A)', 0):,.0f} and {t.get('one instance alone (B)', 0):,.0f}",
              r >= 0.8)
for (engine, n), h in sorted(hooks.items()):
    check("two instances: no webhook delivered twice (mixed load through both)", engine, n,
          f"{h['received']} POSTs for {h['events']} events, {h['delivered']} deliveries recorded, "
          f"{h['twice']} twice, {h['fivexx']} 5xx",
          h["twice"] == 0 and h["events"] == h["delivered"] > 0 and h["fivexx"] == 0)
for (engine, n), (ab, ba) in sorted(cache.items()):
    check("two instances: a write through either voids both figures caches", engine, n,
          f"through A, on B: {ab}; through B, on A: {ba}", ab == ba == "yes")

print("## Issue 12's targets in this run")
print()
print("| target | engine | Fabriques | measured | met |")
print("|---|---|---:|---|---|")
for t in checks:
    print("| %s | %s | %s | %s | %s |" % t)
print()

# Growth: each figure at each size, and the ratio to the smallest dataset of its engine.
series = defaultdict(dict)  # (engine, figure) -> {n: value}
for (engine, n, label), rps in lean.items():
    series[(engine, f"{label}, req/s at 32 connections")][n] = rps
for (engine, n, label), v in latency.items():
    if "cache off" in label:
        series[(engine, f"{label}, p95 ms")][n] = v[1]
print("## Growth with the dataset")
print()
print("Throughput: the smallest dataset's req/s over this one's (flat is 1.0; target ≤ 1.3 at"
      " 100,000). Figures: p95 over the smallest dataset's, next to the dataset's own growth"
      " (sub-linear when smaller).")
print()
print("| engine | figure | Fabriques | value | growth | dataset growth |")
print("|---|---|---:|---:|---:|---:|")
for (engine, figure), by_n in sorted(series.items()):
    sizes = sorted(by_n)
    base = sizes[0]
    for n in sizes:
        v = by_n[n]
        if "req/s" in figure:
            g = by_n[base] / v if v else float("inf")
        else:
            g = v / by_n[base] if by_n[base] else float("inf")
        print(f"| {engine} | {figure} | {n} | {v:,.1f} | {g:.2f}× | {n / base:.0f}× |")
print()
