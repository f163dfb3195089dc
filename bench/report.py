#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn one `make bench` run into tables, plots and a report.

usage: report.py OUTDIR PREVDIR DOCS MODE

OUTDIR holds deterministic/ and wallclock/, each with micro.csv, e2e.csv,
bench.txt, perf-stat.txt and perf reports from bench/guest.sh.  PREVDIR
holds the previous deterministic run (may be missing).  Writes
OUTDIR/README.md and OUTDIR/*.png, and for MODE "full" the results section
of DOCS (docs/benchmarks.md).
"""
import csv
import os
import re
import subprocess
import sys

RUNS = ("deterministic", "wallclock")
UNIT = {
    "deterministic": "guest instructions (-icount shift=0: 1 ns of guest time = 1 instruction)",
    "wallclock": "ns of wall-clock time in a TCG guest (emulated; not hardware speed)",
}


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def fnum(x, digits=0):
    return f"{float(x):,.{digits}f}"


def micro_rows(rows, order, path):
    for r in rows:
        if int(r["order"]) == order and r["path"] == path:
            return r
    return None


def e2e_row(rows, size, thp, driver):
    for r in rows:
        if int(r["size_bytes"]) == size and int(r["thp"]) == thp and r["driver"] == driver:
            return r
    return None


def perf_counts(path):
    counts = {}
    if not os.path.exists(path):
        return counts
    for line in open(path):
        m = re.match(r"\s*([\d,]+)\s+(\S+)", line)
        if m:
            counts[m.group(2)] = int(m.group(1).replace(",", ""))
    return counts


def bench_totals(path):
    if not os.path.exists(path):
        return None
    m = re.search(r"folios allocated: (\d+), freed: (\d+)", open(path).read())
    return (int(m.group(1)), int(m.group(2))) if m else None


def key_table(d):
    """Order 0 and 9: the free path, its unavoidable parts, end to end."""
    micro = read_csv(os.path.join(d, "micro.csv"))
    e2e = read_csv(os.path.join(d, "e2e.csv"))
    out = []
    out.append("| order | what | ns per folio | folios/s | GiB/s |")
    out.append("|------:|------|-------------:|---------:|------:|")
    for order in (0, 9):
        scrub = micro_rows(micro, order, "scrub")
        none = micro_rows(micro, order, "none")
        prep = micro_rows(micro, order, "bare prepare")
        buddy = micro_rows(micro, order, "raw buddy")
        if not (scrub and none and prep and buddy):
            continue
        for name, r in (("vramsim folio free, prepare=scrub", scrub),
                        ("vramsim folio free, prepare=none", none),
                        ("bare prepare (scrub only)", prep),
                        ("raw buddy free (no folio)", buddy)):
            out.append(f"| {order} | {name} | {fnum(r['free_total_ns_per_folio'])} | "
                       f"{fnum(r['folios_per_s'])} | {fnum(r['gib_per_s'], 2)} |")
        floor_s = float(prep["free_total_ns_per_folio"]) + float(buddy["free_total_ns_per_folio"])
        floor_n = float(buddy["free_total_ns_per_folio"])
        out.append(f"| {order} | scrub / (bare prepare + raw buddy) | "
                   f"{float(scrub['free_total_ns_per_folio']) / floor_s:.2f}x | | |")
        out.append(f"| {order} | none / raw buddy | "
                   f"{float(none['free_total_ns_per_folio']) / floor_n:.2f}x | | |")
    sizes = sorted({int(r["size_bytes"]) for r in e2e})
    if sizes:
        big = sizes[-1]
        out.append("")
        out.append(f"End to end, {big >> 20} MiB buffer, same boot (THP on: 2 MiB folios, "
                   "THP off: 4 KiB folios):")
        out.append("")
        out.append("| THP | driver | migrate to device GiB/s | free (munmap) GiB/s |")
        out.append("|:---:|--------|------------------------:|--------------------:|")
        for thp in (1, 0):
            for drv in ("vramsim", "test_hmm"):
                r = e2e_row(e2e, big, thp, drv)
                if r:
                    out.append(f"| {'on' if thp else 'off'} | {drv} | "
                               f"{fnum(r['to_dev_gib_per_s'], 2)} | {fnum(r['free_gib_per_s'], 2)} |")
    return "\n".join(out)


def section(title, path, limit=None):
    if not os.path.exists(path):
        return ""
    lines = open(path).read().rstrip().splitlines()
    if limit:
        lines = lines[:limit]
    return f"\n{title}\n\n```\n" + "\n".join(lines) + "\n```\n"


def tables_from_bench(path):
    """The markdown tables vramsim_bench printed."""
    if not os.path.exists(path):
        return ""
    text = open(path).read()
    start = text.find("## In-kernel")
    return text[start:].replace("## ", "#### ") if start >= 0 else text


def determinism(cur, prev):
    """Compare the figures with the previous deterministic run, row by row."""
    if not os.path.isdir(prev):
        return "no earlier deterministic run to compare with."
    diffs, rows = [], 0
    for name, key in (("micro.csv", ("order", "path")),
                      ("e2e.csv", ("size_bytes", "thp", "driver"))):
        a = {tuple(r[k] for k in key): r for r in read_csv(os.path.join(prev, name))}
        b = {tuple(r[k] for k in key): r for r in read_csv(os.path.join(cur, name))}
        for k in b:
            rows += 1
            if k not in a or a[k] == b[k]:
                continue
            worst = 0.0
            for col, v in b[k].items():
                try:
                    x, y = float(a[k][col]), float(v)
                except ValueError:
                    continue
                if x != y:
                    worst = max(worst, abs(y - x) / max(abs(x), 1e-9))
            diffs.append(f"{name} {'/'.join(k)}: up to {100 * worst:.2f}%")
    pa = perf_counts(os.path.join(prev, "perf-stat.txt"))
    pb = perf_counts(os.path.join(cur, "perf-stat.txt"))
    for k in ("vramsim:vramsim_folio_alloc", "vramsim:vramsim_folio_free",
              "vramsim:vramsim_folio_prepare", "vramsim:vramsim_folio_split"):
        if pa.get(k) != pb.get(k):
            diffs.append(f"perf count {k}: {pa.get(k)} then {pb.get(k)}")
    boot = boot_state(cur, prev)
    if not diffs:
        return (f"identical to the previous deterministic run ({rows} rows, perf folio counts); "
                + boot)
    return (f"{rows - len(diffs)} of {rows} rows identical to the previous deterministic run; "
            "differ: " + "; ".join(diffs) + "; " + boot)


def boot_state(cur, prev):
    """How the deterministic boot compares with the previous one's (run.sh)."""
    def read(d, name):
        try:
            return open(os.path.join(d, name)).read().strip()
        except OSError:
            return ""
    state, boots = read(cur, "boot-state"), read(cur, "boots") or "1"
    if read(cur, "build-id") != read(prev, "build-id"):
        return f"another build than the previous run's; boot state {state or '?'}."
    if state and state == read(prev, "boot-state"):
        return f"same build and boot state ({state}, reached in {boots} boot(s))."
    return (f"same build, other boot state ({state or '?'} vs {read(prev, 'boot-state') or '?'}, "
            f"after {boots} boot(s)).")


def perf_check(d):
    counts = perf_counts(os.path.join(d, "perf-stat.txt"))
    totals = bench_totals(os.path.join(d, "bench-traced.txt"))
    a = counts.get("vramsim:vramsim_folio_alloc")
    f = counts.get("vramsim:vramsim_folio_free")
    if totals is None or a is None:
        return "perf counts: missing", False
    ok = (a, f) == totals
    return (f"perf stat -a -e 'vramsim:*': vramsim_folio_alloc {a}, vramsim_folio_free {f}; "
            f"vramsim_bench reported {totals[0]} allocated, {totals[1]} freed: "
            f"{'equal' if ok else 'NOT EQUAL'}"), ok


def profile(d, order, top=25):
    """Self and inclusive time per symbol from perf script's raw callchains."""
    raw = os.path.join(d, f"perf-script-order{order}.txt")
    ksyms = os.path.join(d, "kallsyms.txt")
    if not (os.path.exists(raw) and os.path.exists(ksyms)):
        return None
    syms = []
    for line in open(ksyms):
        f = line.split()
        if len(f) >= 3:
            name = f[2] + (" " + f[3] if len(f) > 3 else "")
            syms.append((int(f[0], 16), name))
    syms.sort()
    addrs = [a for a, _ in syms]
    import bisect

    def name(ip):
        if ip < 0xffff800000000000:
            return "[user]"
        i = bisect.bisect_right(addrs, ip) - 1
        return syms[i][1] if i >= 0 else hex(ip)

    self_c, incl_c, n = {}, {}, 0
    chain = []
    for line in list(open(raw)) + [""]:
        line = line.strip()
        if line:
            try:
                chain.append(int(line, 16))
            except ValueError:
                pass
            continue
        if chain:
            n += 1
            names = [name(ip) for ip in chain]
            self_c[names[0]] = self_c.get(names[0], 0) + 1
            for nm in set(names):
                incl_c[nm] = incl_c.get(nm, 0) + 1
            chain = []
    if not n:
        return None
    out = [f"{n} samples (perf record -e cpu-clock -g); symbols from /proc/kallsyms", "",
           "self %   symbol"]
    for nm, c in sorted(self_c.items(), key=lambda x: -x[1])[:top]:
        out.append(f"{100.0 * c / n:6.2f}   {nm}")
    out += ["", "incl %   symbol (time in it and its callees)"]
    for nm, c in sorted(incl_c.items(), key=lambda x: -x[1])[:top + 10]:
        if nm != "[user]":
            out.append(f"{100.0 * c / n:6.2f}   {nm}")
    return "\n".join(out)


def plots(out):
    d = os.path.join(out, "deterministic")
    micro = read_csv(os.path.join(d, "micro.csv"))
    e2e = read_csv(os.path.join(d, "e2e.csv"))
    if not micro:
        return []
    data = os.path.join(out, "plot-data")
    os.makedirs(data, exist_ok=True)
    paths = ("scrub", "none", "bare prepare", "raw buddy")
    for p in paths:
        with open(os.path.join(data, f"micro-{p.replace(' ', '_')}.dat"), "w") as f:
            for r in micro:
                if r["path"] == p:
                    f.write(f"{r['order']} {r['free_total_ns_per_folio']} {r['gib_per_s']}\n")
    for drv in ("vramsim", "test_hmm"):
        for thp in (1, 0):
            with open(os.path.join(data, f"e2e-{drv}-{thp}.dat"), "w") as f:
                for r in e2e:
                    if r["driver"] == drv and int(r["thp"]) == thp:
                        f.write(f"{int(r['size_bytes']) / 1048576} {r['free_gib_per_s']} "
                                f"{r['to_dev_gib_per_s']}\n")
    unit = "GiB per 10^9 guest instructions"
    micro_series = [(f"micro-{p.replace(' ', '_')}.dat", t) for p, t in (
        ("scrub", "full path, prepare=scrub"), ("none", "full path, prepare=none"),
        ("bare prepare", "bare prepare"), ("raw buddy", "raw buddy free"))]
    e2e_series = [(f"e2e-{d}-{t}.dat", f"{d}, THP {'on' if t else 'off'}")
                  for d in ("vramsim", "test_hmm") for t in (1, 0)]

    def plot(name, title, ylabel, series, col):
        lines = ", \\\n     ".join(f'"{data}/{f}" u 1:{col} w lp lw 2 t "{t}"'
                                     for f, t in series)
        return (f'set output "{out}/{name}"\nset title "{title}"\n'
                f'set ylabel "{ylabel}"\nplot {lines}\n')

    gp = (f'set terminal pngcairo noenhanced size 900,560 font "sans,11"\n'
          'set grid\nset key top left\nset logscale y\n'
          'set xlabel "folio order (0 = 4 KiB, 9 = 2 MiB)"\nset xrange [-0.5:9.5]\nset xtics 1\n'
          + plot("free-ns-per-folio.png",
                 "vramsim free path per folio (deterministic guest: instructions)",
                 "guest instructions per folio", micro_series, 2)
          + plot("free-throughput.png",
                 "vramsim free throughput per order (deterministic guest)",
                 unit, micro_series, 3)
          + 'set xlabel "buffer size (MiB)"\nunset xrange\nset xtics auto\nset logscale x 2\n'
          + plot("e2e-free.png",
                 "munmap of a migrated buffer: vramsim vs test_hmm (deterministic guest)",
                 unit, e2e_series, 2)
          + plot("e2e-to-device.png",
                 "migrate to device: vramsim vs test_hmm (deterministic guest)",
                 unit, e2e_series, 3))
    with open(os.path.join(data, "plots.gp"), "w") as f:
        f.write(gp)
    subprocess.run(["gnuplot", os.path.join(data, "plots.gp")], check=True)
    return ["free-ns-per-folio.png", "free-throughput.png", "e2e-free.png", "e2e-to-device.png"]


def main():
    out, prev, docs, mode = sys.argv[1:5]
    stamp = os.path.basename(out.rstrip("/"))
    pngs = plots(out)
    det = os.path.join(out, "deterministic")
    checks = []
    all_ok = True
    for run in RUNS:
        msg, ok = perf_check(os.path.join(out, run))
        all_ok &= ok
        checks.append(f"- {run}: {msg}")
    same = determinism(det, prev)

    rep = [f"# vramsim benchmark results ({stamp}, {mode} matrix)", ""]
    rep.append("Regenerated by `make bench` (bench/run.sh); how to read them: docs/benchmarks.md.")
    rep.append("")
    for run in RUNS:
        g = os.path.join(out, run, "guest.txt")
        secs = os.path.join(out, run, "host-seconds")
        rep.append(f"- **{run}**: {UNIT[run]}. "
                   + (open(g).read().strip().replace("\n", "; ") if os.path.exists(g) else "")
                   + (f"; {open(secs).read().strip()} s on the host" if os.path.exists(secs) else ""))
    rep.append("")
    rep.append("## Key figures, deterministic guest")
    rep.append("")
    rep.append(key_table(det))
    rep.append("")
    rep.append("## Checks")
    rep.append("")
    rep += checks
    rep.append(f"- determinism: {same}")
    rep.append("")
    for p in pngs:
        rep.append(f"![{p}]({p})")
    for run in RUNS:
        d = os.path.join(out, run)
        rep.append("")
        rep.append(f"## {run.capitalize()} guest: every figure")
        rep.append("")
        rep.append(f"Unit: {UNIT[run]}.")
        rep.append("")
        rep.append(tables_from_bench(os.path.join(d, "bench.txt")))
        rep.append(section("perf stat -a -e 'vramsim:*' and software events, around a "
                           "second run of the same matrix (its figures, with tracepoints "
                           "on, are in bench-traced.txt)",
                           os.path.join(d, "perf-stat.txt")))
        for o in (0, 9):
            prof = os.path.join(d, f"perf-profile-order{o}.txt")
            text = profile(d, o)
            if text:
                with open(prof, "w") as f:
                    f.write(text + "\n")
                os.remove(os.path.join(d, f"perf-script-order{o}.txt"))
            rep.append(section(f"Profile of the in-kernel benchmark, order {o} "
                               "(perf record -e cpu-clock -g)", prof, 60))
        if os.path.exists(os.path.join(d, "kallsyms.txt")):
            os.remove(os.path.join(d, "kallsyms.txt"))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(rep) + "\n")

    if mode == "full" and os.path.exists(docs):
        text = open(docs).read()
        begin, end = "<!-- BEGIN RESULTS (make bench) -->", "<!-- END RESULTS (make bench) -->"
        if begin in text and end in text:
            rel = f"../bench/results/{stamp}"
            body = [begin, "",
                    f"From `bench/results/{stamp}/` (full report: "
                    f"[README.md]({rel}/README.md)). Deterministic guest: "
                    "figures are guest instructions, GiB/s are GiB per 10^9 instructions.", "",
                    key_table(det), "", "Checks:", ""] + checks + [f"- determinism: {same}", ""]
            body += [f"![{p}]({rel}/{p})" for p in pngs]
            body += ["", end]
            text = text[:text.index(begin)] + "\n".join(body) + text[text.index(end) + len(end):]
            with open(docs, "w") as f:
                f.write(text)

    print(f"==> Report: {os.path.join(out, 'README.md')}")
    print(key_table(det))
    print("\n".join(checks))
    print(f"- determinism: {same}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
