#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# The table and the plot of make bench-debate (bench/debate.sh): every
# placement of the prepare step on its kernel, per order 0, 4 and 9, the
# end-to-end rows, and what the KUnit reproducers found.  Writes
# OUT/README.md, OUT/debate.png and the results section of docs/debate.md
# (between its "debate-results" markers).
# usage: debate.py OUT PREV DEBATE_MD
import csv
import os
import re
import subprocess
import sys

ORDERS = (0, 4, 9)
# (variant, policy, label): the placements, in the thread's order.
PLACEMENTS = (
    ("core", "core", "core: reset before ->folio_free(folio, order)", "core"),
    ("stock", "driver", "driver: reset in ->folio_free (7.3)", "driver, 7.3"),
    ("stock", "alloc", "alloc: next allocation, 7.3 as shipped", "alloc, 7.3 (stale)"),
    ("fix", "alloc", "alloc with the init fix (VARIANT=fix)", "alloc + init fix"),
    ("fix", "driver", "driver on the fix kernel", "driver, fix kernel"),
)
BEGIN = "<!-- debate-results-begin -->"
END = "<!-- debate-results-end -->"


def micro(vdir):
    """Best of the runs, per order and key: {order: {key: value}}."""
    best = {}
    path = os.path.join(vdir, "micro.txt")
    if not os.path.exists(path):
        return best
    for line in open(path):
        kv = dict(re.findall(r"(\w+)=(\d+)", line))
        if "order" not in kv:
            continue
        o = int(kv["order"])
        row = best.setdefault(o, {})
        for k, v in kv.items():
            if k in ("run", "order"):
                continue
            row[k] = min(int(v), row.get(k, int(v)))
    return best


def e2e(vdir, policy):
    path = os.path.join(vdir, f"e2e-{policy}", "e2e.csv")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [r for r in csv.DictReader(f) if r["driver"] == "vramsim"]


def findings(vdir, policies):
    """What the reproducers printed, per policy in the order KUnit ran them."""
    path = os.path.join(vdir, "kunit.txt")
    res = {p: {} for p in policies}
    if not os.path.exists(path):
        return res, False
    # dmesg's time stamps off.
    text = re.sub(r"^\[ *[0-9.]+\] ", "", open(path).read(), flags=re.M)
    for name, pat in (("pg_active", r"finding: stale page\[1\] PG_active: (\w+)"),
                      ("unlike", r"finding: pages unlike a first use: order 0 (\d+), "
                                 r"order 4 (\d+), order 9 (\d+)"),
                      ("bits", r"finding: order 0 after a split: (\d+) pages without PG_reserved, "
                               r"(\d+) with PG_swapbacked; page\[1\] PG_active at order 4: (\w+), "
                               r"order 9: (\w+)"),
                      ("walk", r"finding: full-range walk collected the live folio: (\w+)")):
        for p, m in zip(policies, re.finditer(pat, text)):
            res[p][name] = m.groups()
    passed = re.search(r"^\s*ok \d+ vramsim\s*$", text, re.M) is not None and \
        re.search(r"not ok", text) is None
    return res, passed


def per(ns, count):
    return ns / count if count else 0


def main():
    out, prev, md = sys.argv[1], sys.argv[2], sys.argv[3]
    data = {}
    for v in ("stock", "fix", "core"):
        vdir = os.path.join(out, v)
        if not os.path.isdir(vdir):
            continue
        pols = open(os.path.join(vdir, "policies")).read().split()
        f, ok = findings(vdir, pols)
        data[v] = {"micro": micro(vdir), "policies": pols, "findings": f, "kunit_ok": ok,
                   "e2e": {p: e2e(vdir, p) for p in pols}}

    lines = []
    lines.append("Instructions per folio (deterministic guest: 1 ns = 1 instruction), "
                 "best of 3 runs of 64 MiB of folios; free = `folio_put()` (the core "
                 "and `->folio_free`) + the return of the blocks to the buddy; "
                 "cycle = alloc + free.")
    lines.append("")
    head = "| placement | kernel |"
    sep = "|---|---|"
    for o in ORDERS:
        head += f" o{o} alloc | o{o} free | o{o} cycle |"
        sep += "---:|---:|---:|"
    head += " stale state after reuse | walk finds live folio | KUnit |"
    sep += "---|---|---|"
    lines += [head, sep]
    plot_rows = []
    for v, p, label, short in PLACEMENTS:
        d = data.get(v)
        if not d or p not in d["policies"]:
            continue
        row = f"| {label} | {v} |"
        cycles = []
        for o in ORDERS:
            m = d["micro"].get(o, {})
            count = m.get("count", 0)
            a = per(m.get(f"{p}_alloc_ns", 0), count)
            fr = per(m.get(f"{p}_free_ns", 0) + m.get(f"{p}_return_ns", 0), count)
            row += f" {a:,.0f} | {fr:,.0f} | {a + fr:,.0f} |"
            cycles.append(a + fr)
        fd = d["findings"].get(p, {})
        unlike = fd.get("unlike")
        stale = []
        if unlike and any(int(x) for x in unlike):
            stale.append("yes: pages unlike a first use (o0/o4/o9) " + "/".join(unlike))
        bits = fd.get("bits")
        if bits:
            if int(bits[0]):
                stale.append(f"{bits[0]} without PG_reserved")
            if int(bits[1]):
                stale.append(f"{bits[1]} PG_swapbacked")
            if "yes" in bits[2:]:
                stale.append("page[1] PG_active")
        elif fd.get("pg_active", ("no",))[0] == "yes":
            stale.append("page[1] PG_active")
        if not fd:
            stale = ["? (no KUnit output)"]
        row += f" {'; '.join(stale) if stale else 'no'} |"
        walk = fd.get("walk", ("?",))[0]
        row += f" {walk} |"
        row += f" {'pass' if d['kunit_ok'] else 'FAIL'} |"
        lines.append(row)
        plot_rows.append((short, cycles))

    lines.append("")
    lines.append("End to end, `vramsim_bench --quick` per policy (median of 3): "
                 "migrate to the device, then munmap; ms.")
    lines.append("")
    lines.append("| placement | kernel | size | THP | to device | free (munmap + settle) |")
    lines.append("|---|---|---:|:---:|---:|---:|")
    for v, p, label, short in PLACEMENTS:
        d = data.get(v)
        if not d or p not in d["policies"]:
            continue
        for r in d["e2e"].get(p, []):
            size = int(r["size_bytes"])
            s = f"{size >> 20}M" if size >= 1 << 20 else f"{size >> 10}K"
            lines.append(f"| {label.split(':')[0]} | {v} | {s} | {'on' if r['thp'] == '1' else 'off'} | "
                         f"{float(r['to_dev_ms']):.3f} | {float(r['free_total_ms']):.3f} |")

    # Repeatability: the in-kernel figures against the previous run's.
    rep = []
    for v in data:
        pm = micro(os.path.join(prev, v)) if os.path.isdir(os.path.join(prev, v)) else {}
        same_state = False
        try:
            same_state = open(os.path.join(prev, v, "boot-state")).read() == \
                open(os.path.join(out, v, "boot-state")).read()
        except OSError:
            pass
        if not pm:
            rep.append(f"- {v}: no previous run to compare with")
        elif pm == data[v]["micro"]:
            rep.append(f"- {v}: identical to the previous run"
                       f"{' (same boot state)' if same_state else ''}")
        else:
            rep.append(f"- {v}: differs from the previous run"
                       f"{' in the same boot state' if same_state else ' (another boot state)'}")
    lines.append("")
    lines.append("Repeatability of the in-kernel figures:")
    lines.append("")
    lines += rep

    # The plot: alloc+free cycle per order and placement.
    dat = os.path.join(out, "debate.dat")
    with open(dat, "w") as f:
        f.write("# placement " + " ".join(f"o{o}" for o in ORDERS) + "\n")
        for name, cyc in plot_rows:
            f.write('"' + name + '" ' + " ".join(f"{c:.1f}" for c in cyc) + "\n")
    gp = os.path.join(out, "debate.gp")
    with open(gp, "w") as f:
        f.write(f"""set terminal pngcairo size 900,480
set output 'debate.png'
set title 'alloc + free cycle per folio, by placement of the prepare step'
set ylabel 'instructions per folio (log)'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set xtics nomirror
plot 'debate.dat' using 2:xtic(1) title 'order 0', '' using 3 title 'order 4', '' using 4 title 'order 9'
""")
    try:
        subprocess.run(["gnuplot", "debate.gp"], check=True, cwd=out)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"debate.py: no plot: {e}", file=sys.stderr)

    table = "\n".join(lines) + "\n"
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("# make bench-debate\n\n" + table)
    print(table)

    if os.path.exists(md):
        text = open(md).read()
        if BEGIN in text and END in text:
            rel = os.path.relpath(out, os.path.dirname(md))
            body = (f"{BEGIN}\nFrom `make bench-debate` ({rel}/); plot: "
                    f"![cycle per folio]({rel}/debate.png)\n\n{table}{END}")
            text = text[:text.index(BEGIN)] + body + text[text.index(END) + len(END):]
            open(md, "w").write(text)


if __name__ == "__main__":
    main()
