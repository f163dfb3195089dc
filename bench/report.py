#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn one `make bench` run into tables, plots and a report.

usage: report.py OUTDIR PREVDIR DOCS MODE

OUTDIR holds deterministic/ and wallclock/, each with micro.csv, e2e.csv,
bench.txt, perf-stat.txt and perf reports from bench/guest.sh; deterministic/
also evict.csv, oversub-evict-{on,off}.csv, peer.csv and sweep.txt, and
scaling/ scale.txt (the parallel free on 2 CPUs).  PREVDIR
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
    "scaling": "ns of wall-clock time in a TCG guest with 2 vCPUs (multi-threaded TCG; "
               "not hardware speed)",
}
FLOOR_GOAL = 1.10   # full path / its floor, per order: a goal, never a failure
SCALE_GOAL = 1.8    # throughput of 2 threads / 1 thread
SWEEP_GOAL = 1.10   # max / min of the full path over VRAM sizes


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
        scrub = micro_rows(micro, order, "driver")
        none = micro_rows(micro, order, "alloc")
        prep = micro_rows(micro, order, "bare prepare")
        buddy = micro_rows(micro, order, "raw buddy")
        if not (scrub and none and prep and buddy):
            continue
        for name, r in (("vramsim folio free, prepare=driver", scrub),
                        ("vramsim folio free, prepare=alloc", none),
                        ("bare prepare (driver only)", prep),
                        ("raw buddy free (no folio)", buddy)):
            out.append(f"| {order} | {name} | {fnum(r['free_total_ns_per_folio'])} | "
                       f"{fnum(r['folios_per_s'])} | {fnum(r['gib_per_s'], 2)} |")
        floor_s = float(prep["free_total_ns_per_folio"]) + float(buddy["free_total_ns_per_folio"])
        floor_n = float(buddy["free_total_ns_per_folio"])
        out.append(f"| {order} | driver / (bare prepare + raw buddy) | "
                   f"{float(scrub['free_total_ns_per_folio']) / floor_s:.2f}x | | |")
        out.append(f"| {order} | alloc / raw buddy | "
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


def micro_full(micro, order, path):
    r = micro_rows(micro, order, path)
    return float(r["free_total_ns_per_folio"]) if r else None


def floor_rows(micro):
    """Per order: each path's full cost and its floor (None if no core row)."""
    rows = []
    for order in sorted({int(r["order"]) for r in micro}):
        none, scrub = micro_full(micro, order, "alloc"), micro_full(micro, order, "driver")
        core, prep = micro_full(micro, order, "core"), micro_full(micro, order, "bare prepare")
        buddy = micro_full(micro, order, "raw buddy")
        if None in (none, scrub, core, prep, buddy):
            continue
        rows.append((order, none, core + buddy, scrub, core + prep + buddy))
    return rows


def floor_table(d):
    rows = floor_rows(read_csv(os.path.join(d, "micro.csv")))
    if not rows:
        return ""
    out = [f"Free path against its floor, per order (goal {FLOOR_GOAL:.2f}x, informative). "
           "In-kernel bench, best of 3; ns per folio = (free_ns + return_ns) / count. "
           "alloc floor = core + raw buddy free; driver floor = core + bare prepare + "
           "raw buddy free (core: folio_put() to a ->folio_free that does nothing).", "",
           "| order | alloc | floor | alloc / floor | driver | floor | driver / floor |",
           "|------:|-----:|------:|-------------:|------:|------:|--------------:|"]
    for order, none, nf, scrub, sf in rows:
        out.append(f"| {order} | {fnum(none)} | {fnum(nf)} | {none / nf:.2f}x | "
                   f"{fnum(scrub)} | {fnum(sf)} | {scrub / sf:.2f}x |")
    return "\n".join(out)


def evict_table(d):
    rows = read_csv(os.path.join(d, "evict.csv"))
    if not rows:
        return ""
    vram = int(rows[0]["vram_bytes"]) >> 20
    out = [f"Eviction per folio ({vram} MiB VRAM, evict=on; order 0 with THP off, 9 with THP "
           "on). evict = time to migrate a VRAM-sized buffer B to the device while buffer A "
           "fills the VRAM, minus B into an empty VRAM, per evicted folio (evicted_bytes / "
           "folio size); to RAM = DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM of A, as many folios, per "
           "folio. Both buffers' data checked afterwards.", "",
           "| order | folios | evict instr/folio | evict GiB/s | to RAM instr/folio | "
           "evict / to RAM |",
           "|------:|-------:|------------------:|------------:|-------------------:|"
           "---------------:|"]
    for r in rows:
        out.append(f"| {r['order']} | {fnum(int(r['evicted_bytes']) >> (12 + int(r['order'])))} | "
                   f"{fnum(r['evict_ns_per_folio'])} | {fnum(r['evict_gib_per_s'], 2)} | "
                   f"{fnum(r['to_ram_ns_per_folio'])} | {float(r['ratio']):.2f}x |")
    return "\n".join(out)


def oversub_table(d):
    rows = (read_csv(os.path.join(d, "oversub-evict-on.csv"))
            + read_csv(os.path.join(d, "oversub-evict-off.csv")))
    if not rows:
        return ""
    ws, vram = int(rows[0]["ws_bytes"]) >> 20, int(rows[0]["vram_bytes"]) >> 20
    out = [f"Oversubscribed: a {ws} MiB working set on {vram} MiB of VRAM, migrated to the "
           "device in 8 windows, then read back whole on the CPU (data checked), median of "
           "the rounds. moved = bytes the ioctls moved per round; migrate GiB/s = moved / "
           "migrate time; round GiB/s = working set / (migrate + read). evict=off: only what "
           "fits moves.", "",
           "| THP | evict | moved MiB | migrate GiB/s | read ms | round GiB/s |",
           "|:---:|:-----:|----------:|--------------:|--------:|------------:|"]
    for thp in ("1", "0"):
        for r in rows:
            if r["thp"] == thp:
                out.append(f"| {'on' if thp == '1' else 'off'} | {r['evict']} | "
                           f"{fnum(int(r['moved_bytes']) >> 20)} | "
                           f"{fnum(r['migrate_gib_per_s'], 2)} | {fnum(r['read_ms'], 1)} | "
                           f"{fnum(r['round_gib_per_s'], 2)} |")
    return "\n".join(out)


def peer_table(d):
    rows = read_csv(os.path.join(d, "peer.csv"))
    if not rows:
        return ""
    size = int(rows[0]["bytes"]) >> 20
    out = [f"Device to device ({size} MiB, num_devices=2): direct = MIGRATE_TO_DEVICE on "
           "device 1 of memory on device 0 (counted in device 1's peer_bytes); via RAM = "
           "MIGRATE_TO_RAM on device 0, then MIGRATE_TO_DEVICE on device 1 (peer_bytes "
           "unchanged). Data checked after each.", "",
           "| THP | path | ms | GiB/s | peer_bytes | via RAM / direct |",
           "|:---:|------|---:|------:|-----------:|-----------------:|"]
    for thp in ("1", "0"):
        pair = {r["path"]: r for r in rows if r["thp"] == thp}
        for path in ("direct", "via_ram"):
            r = pair.get(path)
            if not r:
                continue
            ratio = ""
            if path == "via_ram" and "direct" in pair:
                ratio = f"{float(r['ms']) / float(pair['direct']['ms']):.2f}x"
            out.append(f"| {'on' if thp == '1' else 'off'} | {path.replace('_', ' ')} | "
                       f"{fnum(r['ms'], 3)} | {fnum(r['gib_per_s'], 2)} | "
                       f"{fnum(r['peer_bytes'])} | {ratio} |")
    return "\n".join(out)


def kv_lines(path):
    """The debugfs bench lines a guest.sh loop saved: one dict per line."""
    if not os.path.exists(path):
        return []
    return [dict(re.findall(r"(\w+)=(\S+)", line)) for line in open(path) if "=" in line]


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


SIZE_UNIT = {"M": 1, "G": 1024}


def sweep_rows(d):
    """(order, policy) -> [(size MiB, ns per folio)] from the VRAM-size sweep."""
    series = {}
    for kv in kv_lines(os.path.join(d, "sweep.txt")):
        size = kv["vram_size"]
        mib = int(size[:-1]) * SIZE_UNIT[size[-1]]
        count = int(kv["count"])
        for pol in ("alloc", "driver"):
            ns = (int(kv[f"{pol}_free_ns"]) + int(kv[f"{pol}_return_ns"])) / count
            series.setdefault((int(kv["order"]), pol), []).append((mib, ns))
    return series


def sweep_table(d):
    series = sweep_rows(d)
    if not series:
        return ""
    sizes = sorted({mib for v in series.values() for mib, _ in v})

    def label(mib):
        return f"{mib >> 10} GiB" if mib >= 1024 else f"{mib} MiB"
    out = ["Full path against the VRAM size (in-kernel bench, one run per size on a fresh "
           "module: modprobe vramsim vram_size=SIZE); ns per folio = (free_ns + return_ns) / "
           f"count; spread = max / min over the sizes (goal within {SWEEP_GOAL:.2f}x, "
           "informative).", "",
           "| order | policy | " + " | ".join(label(m) for m in sizes) + " | spread |",
           "|------:|--------|" + "---:|" * len(sizes) + "-------:|"]
    for (order, pol), v in sorted(series.items()):
        ns = dict(v)
        vals = [ns[m] for m in sizes if m in ns]
        out.append(f"| {order} | {pol} | " + " | ".join(fnum(ns[m]) if m in ns else ""
                                                      for m in sizes)
                   + f" | {max(vals) / min(vals):.3f}x |")
    return "\n".join(out)


def scale_rows(d):
    """order -> {threads: median parallel_free_ns}, count, repetitions."""
    runs = {}
    for kv in kv_lines(os.path.join(d, "scale.txt")):
        if "threads" not in kv:
            continue
        key = (int(kv["order"]), int(kv["count"]))
        runs.setdefault(key, {}).setdefault(int(kv["threads"]), []).append(
            int(kv["parallel_free_ns"]))
    return runs


def scale_table(d):
    runs = scale_rows(d)
    if not runs:
        return ""
    out = ["Scaling, wall clock TCG, 2 vCPUs (multi-threaded TCG on the host's cores, not "
           "hardware; noisy): the in-kernel parallel free (\"<order> <count> <threads>\": "
           "each of <threads> kernel threads, bound to its own CPU, folio_put()s <count> "
           "folios with prepare=driver at once; time until the last is done; the returns to "
           "the buddy come after, untimed). 2 threads / 1 thread = throughput ratio = "
           f"2 x t(1) / t(2), from the medians (goal {SCALE_GOAL:.1f}x, informative); "
           "from the best runs too.", "",
           "| order | folios per thread | 1 thread ms | 2 threads ms | 2 threads / 1 thread | "
           "best of each | repetitions |",
           "|------:|------------------:|------------:|-------------:|---------------------:|"
           "-------------:|------------:|"]
    for (order, count), t in sorted(runs.items()):
        if 1 not in t or 2 not in t:
            continue
        one, two = median(t[1]), median(t[2])
        out.append(f"| {order} | {fnum(count)} | {one / 1e6:.3f} | {two / 1e6:.3f} | "
                   f"{2 * one / two:.2f}x | {2 * min(t[1]) / min(t[2]):.2f}x | {len(t[1])} |")
    loop = {}
    for kv in kv_lines(os.path.join(d, "scale.txt")):
        if kv.get("ceiling") == "loop":
            loop.setdefault(int(kv["procs"]), []).append(int(kv["ns"]))
    if 1 in loop and 2 in loop:
        one, two = median(loop[1]), median(loop[2])
        out.append(f"| TCG ceiling: a shell loop, no kernel work, 1 vs 2 at once | | "
                   f"{one / 1e6:.3f} | {two / 1e6:.3f} | {2 * one / two:.2f}x | "
                   f"{2 * min(loop[1]) / min(loop[2]):.2f}x | {len(loop[1])} |")
    return "\n".join(out)


def new_tables(out):
    """The floor, eviction, oversubscription, peer, sweep and scaling tables."""
    det = os.path.join(out, "deterministic")
    parts = [("Floor ratios, deterministic guest", floor_table(det)),
             ("Eviction, deterministic guest", evict_table(det)),
             ("Oversubscription, deterministic guest", oversub_table(det)),
             ("Two devices, deterministic guest", peer_table(det)),
             ("VRAM-size sweep, deterministic guest", sweep_table(det)),
             ("Scaling with 2 vCPUs, wall clock TCG",
              scale_table(os.path.join(out, "scaling")))]
    return "\n\n".join(f"### {t}\n\n{body}" for t, body in parts if body)


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
    diffs, rows, new = [], 0, 0
    for name, key in (("micro.csv", ("order", "path")),
                      ("e2e.csv", ("size_bytes", "thp", "driver")),
                      ("evict.csv", ("order",)),
                      ("oversub-evict-on.csv", ("thp",)),
                      ("oversub-evict-off.csv", ("thp",)),
                      ("peer.csv", ("thp", "path")),
                      ("sweep", ("vram_size", "order"))):
        if name == "sweep":
            a = {tuple(r[k] for k in key): r for r in kv_lines(os.path.join(prev, "sweep.txt"))}
            b = {tuple(r[k] for k in key): r for r in kv_lines(os.path.join(cur, "sweep.txt"))}
        else:
            a = {tuple(r[k] for k in key): r for r in read_csv(os.path.join(prev, name))}
            b = {tuple(r[k] for k in key): r for r in read_csv(os.path.join(cur, name))}
        for k in b:
            # A row or a column the previous run did not have (a renamed
            # policy, say) is new, not identical.
            if k not in a:
                new += 1
                continue
            rows += 1
            if a[k] == b[k]:
                continue
            worst = 0.0
            for col, v in b[k].items():
                if col not in a[k]:
                    worst = float("inf")
                    continue
                try:
                    x, y = float(a[k][col]), float(v)
                except ValueError:
                    continue
                if x != y:
                    worst = max(worst, abs(y - x) / max(abs(x), 1e-9))
            diffs.append(f"{name} {'/'.join(k)}: "
                         + ("columns the previous run did not have" if worst == float("inf")
                            else f"up to {100 * worst:.2f}%"))
    pa = perf_counts(os.path.join(prev, "perf-stat.txt"))
    pb = perf_counts(os.path.join(cur, "perf-stat.txt"))
    for k in ("vramsim:vramsim_folio_alloc", "vramsim:vramsim_folio_free",
              "vramsim:vramsim_folio_prepare", "vramsim:vramsim_folio_split"):
        if pa.get(k) != pb.get(k):
            diffs.append(f"perf count {k}: {pa.get(k)} then {pb.get(k)}")
    boot = boot_state(cur, prev)
    if new:
        boot = f"{new} rows not in the previous run (not compared); " + boot
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
    paths = ("driver", "alloc", "bare prepare", "raw buddy")
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
        ("driver", "full path, prepare=driver"), ("alloc", "full path, prepare=alloc"),
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
    pngs = ["free-ns-per-folio.png", "free-throughput.png", "e2e-free.png", "e2e-to-device.png"]
    more, extra = new_plots(d, data, out)
    with open(os.path.join(data, "plots.gp"), "w") as f:
        f.write(gp + more)
    subprocess.run(["gnuplot", os.path.join(data, "plots.gp")], check=True)
    return pngs + extra


def new_plots(d, data, out):
    """gnuplot commands for the floor ratios, the VRAM-size sweep and eviction."""
    gp, pngs = "", []
    reset = ('reset\nset terminal pngcairo noenhanced size 900,560 font "sans,11"\n'
             'set grid\nset key top left\n')
    rows = floor_rows(read_csv(os.path.join(d, "micro.csv")))
    if rows:
        with open(os.path.join(data, "floor.dat"), "w") as f:
            for order, none, nf, scrub, sf in rows:
                f.write(f"{order} {none / nf:.4f} {scrub / sf:.4f}\n")
        gp += (reset + 'set key bottom left\n' + f'set output "{out}/floor-ratio.png"\n'
               'set title "free path / its floor, per order (deterministic guest, '
               'in-kernel bench)"\n'
               'set xlabel "folio order (0 = 4 KiB, 9 = 2 MiB)"\nset xrange [-0.5:9.5]\n'
               'set xtics 1\nset ylabel "ratio (instructions / instructions)"\n'
               'set yrange [0:*]\n'
               f'plot "{data}/floor.dat" u 1:2 w lp lw 2 t "none / (core + raw buddy free)", '
               f'"{data}/floor.dat" u 1:3 w lp lw 2 '
               't "driver / (core + bare prepare + raw buddy free)", '
               f'{FLOOR_GOAL} w l dt 2 lc rgb "black" t "goal {FLOOR_GOAL:.2f}x"\n')
        pngs.append("floor-ratio.png")
    series = sweep_rows(d)
    if series:
        lines = []
        for (order, pol), v in sorted(series.items()):
            name = f"sweep-{order}-{pol}.dat"
            with open(os.path.join(data, name), "w") as f:
                for mib, ns in sorted(v):
                    f.write(f"{mib} {ns:.2f}\n")
            lines.append(f'"{data}/{name}" u 1:2 w lp lw 2 t "order {order}, prepare={pol}"')
        gp += (reset + f'set output "{out}/vram-size-sweep.png"\n'
               'set title "full free path against the VRAM size (deterministic guest, '
               'in-kernel bench)"\n'
               'set xlabel "vram_size (MiB)"\nset logscale xy 2\nset key outside right\n'
               'set ylabel "guest instructions per folio"\n'
               'plot ' + ", ".join(lines) + "\n")
        pngs.append("vram-size-sweep.png")
    ev = read_csv(os.path.join(d, "evict.csv"))
    if ev:
        with open(os.path.join(data, "evict.dat"), "w") as f:
            for r in ev:
                f.write(f"\"order {r['order']}\" {r['evict_ns_per_folio']} "
                        f"{r['to_ram_ns_per_folio']}\n")
        gp += (reset + f'set output "{out}/evict-vs-to-ram.png"\n'
               'set title "eviction vs MIGRATE_TO_RAM, per folio (deterministic guest)"\n'
               'set style data histograms\nset style histogram clustered gap 1\n'
               'set style fill solid 0.8 border -1\nset logscale y\n'
               'set ylabel "guest instructions per folio"\n'
               f'plot "{data}/evict.dat" u 2:xtic(1) t "evicted by a migration to the device", '
               f'"" u 3 t "DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM"\n')
        pngs.append("evict-vs-to-ram.png")
    return gp, pngs


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
    for run in RUNS + ("scaling",):
        g = os.path.join(out, run, "guest.txt")
        if not os.path.isdir(os.path.join(out, run)):
            continue
        secs = os.path.join(out, run, "host-seconds")
        rep.append(f"- **{run}**: {UNIT[run]}. "
                   + (open(g).read().strip().replace("\n", "; ") if os.path.exists(g) else "")
                   + (f"; {open(secs).read().strip()} s on the host" if os.path.exists(secs) else ""))
    rep.append("")
    rep.append("## Key figures, deterministic guest")
    rep.append("")
    rep.append(key_table(det))
    rep.append("")
    more = new_tables(out)
    if more:
        rep.append("## Floors, eviction, oversubscription, two devices, VRAM size, scaling")
        rep.append("")
        rep.append(more)
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
        extra = os.path.join(d, "bench-extra.txt")
        if os.path.exists(extra):
            rep.append("")
            rep.append(open(extra).read().replace("## ", "#### "))
        rep.append(section("In-kernel bench against vram_size (debugfs lines)",
                           os.path.join(d, "sweep.txt")))
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
    rep.append("")
    rep.append("## Scaling guest (2 vCPUs, wall clock): every figure")
    rep.append("")
    rep.append(f"Unit: {UNIT['scaling']}.")
    rep.append(section("In-kernel parallel free (debugfs lines, one per run)",
                       os.path.join(out, "scaling", "scale.txt")))
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
                    key_table(det), ""]
            if more:
                body += [more, ""]
            body += ["Checks:", ""] + checks + [f"- determinism: {same}", ""]
            body += [f"![{p}]({rel}/{p})" for p in pngs]
            body += ["", end]
            text = text[:text.index(begin)] + "\n".join(body) + text[text.index(end) + len(end):]
            with open(docs, "w") as f:
                f.write(text)

    print(f"==> Report: {os.path.join(out, 'README.md')}")
    print(key_table(det))
    print(more)
    print("\n".join(checks))
    print(f"- determinism: {same}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
