#!/usr/bin/env python3
"""Turns the raw measurements of bench/run.sh or bench/bulk.sh into a Markdown table, a JSON file and an SVG
bar chart. Medians are over rounds; ratios are of the medians. No third-party modules, no network.

  summarize.py run  --raw RAW.tsv --json OUT.json --svg OUT.svg --meta JSON
  summarize.py bulk --raw RAW.tsv --json OUT.json --svg OUT.svg --meta JSON
"""
import argparse
import json
import statistics
import sys
from collections import OrderedDict
from xml.sax.saxutils import escape

# Targets in the order they are shown; any other target in the raw data follows them, in the order it first appears.
# phigate-* are the gateway's configurations (bench/run.sh); "baseline" is a phigate from another jar
# (PHIGATE_BASELINE_JAR), for before/after in one run.
KNOWN_TARGETS = ["direct", "pgbouncer", "phigate", "phigate-rec", "phigate-mask", "baseline"]
COLORS = {"direct": "#4c72b0", "pgbouncer": "#55a868", "phigate": "#c44e52", "phigate-rec": "#dd8452",
          "phigate-mask": "#8172b3", "baseline": "#8c8c8c"}
SPARE_COLORS = ["#937860", "#da8bc3", "#ccb974", "#64b5cd"]
# The references every gateway is compared with.
REFERENCES = ["direct", "pgbouncer"]


def targets_in(names):
    present = list(dict.fromkeys(names))
    return [t for t in KNOWN_TARGETS if t in present] + [t for t in present if t not in KNOWN_TARGETS]


def color(target, targets):
    if target in COLORS:
        return COLORS[target]
    others = [t for t in targets if t not in COLORS]
    return SPARE_COLORS[others.index(target) % len(SPARE_COLORS)]


def is_gateway(target):
    return target not in REFERENCES


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def median_or_none(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def md_table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")


def svg_bars(title, groups, unit, path, targets):
    """groups: list of (label, {target: value}). One cluster of bars per group (one per target, one colour each),
    values labelled, and a legend."""
    bar_w, gap, left, top, height = 26, 2, 70, 40, 260
    width_per_group = len(targets) * (bar_w + gap) + 24
    width = max(left + width_per_group * len(groups) + 20, left + 130 * len(targets))
    peak = max((v for _, vals in groups for v in vals.values() if v), default=1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 90}" '
           f'font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        y = top + height - height * i / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">{peak * i / 4:,.0f}</text>')
    out.append(f'<text x="12" y="{top + height / 2}" transform="rotate(-90 12 {top + height / 2})" '
               f'text-anchor="middle">{escape(unit)}</text>')
    for g, (label, vals) in enumerate(groups):
        x0 = left + g * width_per_group + 10
        for t, target in enumerate(targets):
            v = vals.get(target)
            if v is None:
                continue
            h = height * v / peak
            x = x0 + t * (bar_w + gap)
            out.append(f'<rect x="{x}" y="{top + height - h:.1f}" width="{bar_w}" height="{h:.1f}" '
                       f'fill="{color(target, targets)}"><title>{escape(target)}: {v:,.1f}</title></rect>')
            out.append(f'<text x="{x + bar_w / 2}" y="{top + height - h - 3:.1f}" text-anchor="middle" '
                       f'font-size="8">{v:,.0f}</text>')
        mid = x0 + len(targets) * (bar_w + gap) / 2
        out.append(f'<text x="{mid}" y="{top + height + 15}" text-anchor="middle">{escape(label)}</text>')
    for t, target in enumerate(targets):
        x = left + t * 130
        out.append(f'<rect x="{x}" y="{top + height + 40}" width="12" height="12" fill="{color(target, targets)}"/>')
        out.append(f'<text x="{x + 16}" y="{top + height + 50}">{escape(target)}</text>')
    out.append('</svg>')
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def median_by_thread(runs, key="cpu_us_per_tx_by_thread"):
    """Per thread group (or other measure under key), the median over the rounds that measured it; None when none
    did."""
    measured = [x[key] for x in runs if x.get(key)]
    if not measured:
        return None
    digits = 1 if key == "cpu_us_per_tx_by_thread" else 3
    return {g: round(statistics.median(m.get(g) or 0.0 for m in measured), digits) for g in measured[0]}


def run(args, meta):
    # round target mode clients tps mean_ms p99_ms transactions failed [cpu_us: the proxy's CPU per transaction]
    # [threads: a gateway's CPU per transaction by thread group, JSON from bench/threads.py]
    # [journal: the audit journal's groups per transaction, records per group, journal µs per group (threads.py)]
    rows = [r + [""] * (12 - len(r)) for r in read_tsv(args.raw)]
    targets = targets_in(r[1] for r in rows)
    gateways = [t for t in targets if is_gateway(t)]
    references = [t for t in REFERENCES if t in targets]
    cells = OrderedDict()
    for r, target, mode, clients, tps, mean, p99, n, failed, cpu, threads, journal in rows:
        key = (mode, int(clients))
        cells.setdefault(key, {}).setdefault(target, []).append(
            {"round": int(r), "tps": float(tps), "mean_ms": float(mean), "p99_ms": float(p99),
             "transactions": int(n), "failed": int(failed or 0), "cpu_us_per_tx": float(cpu) if cpu else None,
             "cpu_us_per_tx_by_thread": json.loads(threads) if threads else None,
             "journal_groups": json.loads(journal) if journal else None})
    results = []
    for (mode, clients), per_target in cells.items():
        entry = {"mode": mode, "clients": clients, "targets": {}}
        for target in targets:
            runs = per_target.get(target, [])
            if runs:
                entry["targets"][target] = {
                    "median_tps": round(statistics.median(x["tps"] for x in runs), 1),
                    "median_mean_ms": round(statistics.median(x["mean_ms"] for x in runs), 3),
                    "median_p99_ms": round(statistics.median(x["p99_ms"] for x in runs), 3),
                    "median_cpu_us_per_tx": median_or_none(x["cpu_us_per_tx"] for x in runs),
                    "median_cpu_us_per_tx_by_thread": median_by_thread(runs),
                    "median_journal_groups": median_by_thread(runs, "journal_groups"),
                    "rounds": runs}
        tps = {k: v["median_tps"] for k, v in entry["targets"].items()}
        # Every target's tps over each reference (direct, pgbouncer), and every gateway's over the baseline.
        for target, t in entry["targets"].items():
            for ref in references:
                if ref != target:
                    t[f"over_{ref}"] = ratio(tps.get(target), tps.get(ref))
            if "baseline" in tps and is_gateway(target) and target != "baseline":
                t["over_baseline"] = ratio(tps.get(target), tps.get("baseline"))
        results.append(entry)

    configs = meta.get("phigate_targets", {})
    doc = {"kind": "pgbench", "meta": meta, "targets": targets,
           "phigate_configs": {t: configs.get(t, {}).get("description") for t in gateways},
           "results": results,
           "method": {"tps": "pgbench 'tps = ... (without initial connection time)', median over rounds",
                      "cpu": "rounds[].cpu_us_per_tx: the proxy process's utime + stime over the run (from "
                             "/proc/PID/stat) divided by the run's transactions; none for direct",
                      "cpu_by_thread": "rounds[].cpu_us_per_tx_by_thread: the same per thread group, from "
                                       "/proc/PID/task/*/stat (bench/threads.py); 'session' is the virtual threads' "
                                       "carriers, 'ended' the time of threads that ended during the run",
                      "journal_groups": "rounds[].journal_groups: the audit journal's group commits per "
                                        "transaction, records per group and the journal thread group's µs per "
                                        "group, from the gateway's phigate_audit_commits and "
                                        "phigate_audit_events_written counters on /metrics (bench/threads.py)",
                      "ratios": "targets[T].over_R = median tps of T / median tps of R, same mode and clients",
                      "latency": "from pgbench --log per-transaction latencies: mean and nearest-rank p99 per run, "
                                 "median over rounds"}}
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    svg_bars(f"pgbench median tps (scale {meta.get('scale')}, {meta.get('duration_s')} s x "
             f"{meta.get('rounds')} rounds)",
             [(f"{e['mode'].replace('select-', '-S ').replace('tpcb-simple', 'TPC-B')} c{e['clients']}",
               {k: v["median_tps"] for k, v in e["targets"].items()}) for e in results], "tps", args.svg, targets)

    print()
    print(f"Machine: {meta.get('cpu')}, {meta.get('cores')} cores, {meta.get('memory')}; "
          f"fdatasync {meta.get('fdatasync_usec')} µs/op ({meta.get('fdatasync_ops_per_s')} ops/s, pg_test_fsync)")
    print(f"{meta.get('postgresql')}; {meta.get('pgbouncer')} (session pooling); pgbench scale {meta.get('scale')}, "
          f"-j {meta.get('threads')}, {meta.get('duration_s')} s per run, median of {meta.get('rounds')} "
          f"interleaved rounds")
    for t in gateways:
        print(f"  {t}: {configs.get(t, {}).get('description', '?')}")
    print()

    def cell(e, target, field, spec):
        return fmt(e["targets"].get(target, {}).get(field), spec)

    ratio_cols = [(g, ref) for g in gateways for ref in references]
    tps_header = ["mode", "clients"] + [f"{t} tps" for t in targets] + [f"{g}/{ref}" for g, ref in ratio_cols]
    tps_rows = [[e["mode"], str(e["clients"])] + [cell(e, t, "median_tps", ",.0f") for t in targets]
                + [cell(e, g, f"over_{ref}", ".2f") for g, ref in ratio_cols] for e in results]
    lat_header = [f"mean ms ({' / '.join(targets)})", f"p99 ms ({' / '.join(targets)})"]
    lat_rows = [[" / ".join(cell(e, t, "median_mean_ms", ".3f") for t in targets),
                 " / ".join(cell(e, t, "median_p99_ms", ".3f") for t in targets)] for e in results]
    # Up to three targets (the old layout) fit one table; more get one of tps and ratios and one of latencies, one
    # column per target, so no row runs past a screen.
    if len(targets) <= 3:
        md_table(tps_header + lat_header, [a + b for a, b in zip(tps_rows, lat_rows)])
    else:
        md_table(tps_header, tps_rows)
        print()
        md_table(["mode", "clients"] + [f"{t} mean ms" for t in targets] + [f"{t} p99 ms" for t in targets],
                 [[e["mode"], str(e["clients"])] + [cell(e, t, "median_mean_ms", ".3f") for t in targets]
                  + [cell(e, t, "median_p99_ms", ".3f") for t in targets] for e in results])
    proxies = [t for t in targets if t != "direct"]
    if any(e["targets"].get(t, {}).get("median_cpu_us_per_tx") is not None for e in results for t in proxies):
        print()
        print("The proxy's own CPU time per transaction (µs, all its threads, user + system; median over rounds):")
        print()
        md_table(["mode", "clients"] + [f"{t} µs/tx" for t in proxies],
                 [[e["mode"], str(e["clients"])] + [cell(e, t, "median_cpu_us_per_tx", ",.0f") for t in proxies]
                  for e in results])
    by_thread = [(e, t) for e in results for t in gateways
                 if e["targets"].get(t, {}).get("median_cpu_us_per_tx_by_thread")]
    if by_thread:
        groups = list(by_thread[0][0]["targets"][by_thread[0][1]]["median_cpu_us_per_tx_by_thread"])
        print()
        print("A gateway's CPU per transaction by thread group (µs, user + system; median over rounds):")
        print()
        md_table(["mode", "clients", "gateway"] + groups,
                 [[e["mode"], str(e["clients"]), t]
                  + [fmt(e["targets"][t]["median_cpu_us_per_tx_by_thread"].get(g), ",.1f") for g in groups]
                  for e, t in by_thread])
    journal = [(e, t) for e in results for t in gateways if e["targets"].get(t, {}).get("median_journal_groups")]
    if journal:
        print()
        print("The audit journal's group commits (one write and fdatasync each; median over rounds):")
        print()
        md_table(["mode", "clients", "gateway", "groups/tx", "records/group", "journal µs/group"],
                 [[e["mode"], str(e["clients"]), t]
                  + [fmt(e["targets"][t]["median_journal_groups"].get(k), f)
                     for k, f in (("groups_per_tx", ".2f"), ("records_per_group", ".1f"),
                                  ("journal_us_per_group", ",.1f"))]
                  for e, t in journal])
    failed = sum(x["failed"] for e in results for t in e["targets"].values() for x in t["rounds"])
    if failed:
        print()
        print(f"WARNING: {failed} failed transactions (per run in the JSON)")
    if "baseline" in targets:
        print()
        print(f"Before/after in the same run: baseline = {meta.get('baseline_jar')}, the others = "
              f"{meta.get('phigate_commit')}")
        print()
        others = [g for g in gateways if g != "baseline"]
        md_table(["mode", "clients"] + [f"{g}/baseline" for g in others],
                 [[e["mode"], str(e["clients"])] + [cell(e, g, "over_baseline", ".2f") for g in others]
                  for e in results])
    print()
    print(f"JSON: {args.json}")
    print(f"SVG:  {args.svg}")


def bulk(args, meta):
    # round target query bytes seconds
    rows = read_tsv(args.raw)
    targets = targets_in(r[1] for r in rows)
    cells = OrderedDict()
    for r, target, query, nbytes, seconds in rows:
        cells.setdefault(query, {}).setdefault(target, []).append(
            {"round": int(r), "bytes": int(nbytes), "seconds": float(seconds),
             "mb_per_s": int(nbytes) / 1e6 / float(seconds)})
    results = []
    for query, per_target in cells.items():
        entry = {"query": query, "targets": {}}
        for target in targets:
            runs = per_target.get(target, [])
            if runs:
                entry["targets"][target] = {
                    "median_mb_per_s": round(statistics.median(x["mb_per_s"] for x in runs), 1),
                    "median_seconds": round(statistics.median(x["seconds"] for x in runs), 3),
                    "bytes": runs[0]["bytes"], "rounds": runs}
        m = {k: v["median_mb_per_s"] for k, v in entry["targets"].items()}
        entry["phigate_over_direct"] = ratio(m.get("phigate"), m.get("direct"))
        entry["phigate_over_pgbouncer"] = ratio(m.get("phigate"), m.get("pgbouncer"))
        entry["pgbouncer_over_direct"] = ratio(m.get("pgbouncer"), m.get("direct"))
        results.append(entry)
    by_query = {e["query"]: e for e in results}
    masked_over_plain = None
    if "masked" in by_query and "plain" in by_query:
        masked_over_plain = ratio(by_query["masked"]["targets"].get("phigate", {}).get("median_mb_per_s"),
                                  by_query["plain"]["targets"].get("phigate", {}).get("median_mb_per_s"))
    doc = {"kind": "bulk", "meta": meta, "results": results,
           "phigate_masked_over_phigate_plain": masked_over_plain,
           "method": {"mb_per_s": "bytes psql wrote to stdout (measured once, direct) / wall time of the psql "
                                  "process, median over rounds (1 MB = 10^6 bytes)"}}
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    svg_bars(f"{meta.get('rows', 0):,}-row result: median MB/s (masked: 3 PHI columns rewritten by phigate)",
             [(e["query"], m) for e in results
              for m in [{k: v["median_mb_per_s"] for k, v in e["targets"].items()}]], "MB/s", args.svg, targets)
    print()
    print(f"Machine: {meta.get('cpu')}, {meta.get('cores')} cores, {meta.get('memory')}; median of "
          f"{meta.get('rounds')} interleaved rounds; phigate heap cap {meta.get('phigate_xmx')}")
    print()
    print("| result | MB per run | direct MB/s | pgbouncer MB/s | phigate MB/s | phigate/direct | phigate/pgbouncer |")
    print("|---|---|---|---|---|---|---|")
    for e in results:
        t = e["targets"]
        g = lambda target: fmt(t.get(target, {}).get("median_mb_per_s"), ",.1f")
        nbytes = next(iter(t.values()))["bytes"]
        print(f"| {e['query']} | {nbytes / 1e6:,.1f} | {g('direct')} | {g('pgbouncer')} | {g('phigate')} | "
              f"{fmt(e['phigate_over_direct'], '.2f')} | {fmt(e['phigate_over_pgbouncer'], '.2f')} |")
    if masked_over_plain is not None:
        print()
        print(f"phigate, 3 masked columns / phigate, same rows unmasked: {masked_over_plain:.2f} (bar: 0.7)")
    print()
    print(f"phigate peak heap used: {meta.get('phigate_peak_heap_mib')} MiB (largest heap-before-GC in -Xlog:gc, "
          f"or used at the end if larger; {meta.get('phigate_gc_pauses')} GC pauses); peak RSS (VmHWM): {meta.get('phigate_vmhwm_mib')} MiB; "
          f"RSS after startup: {meta.get('phigate_startup_rss_mib')} MiB")
    if meta.get("phigate_bytes_moved") is not None:
        moved = meta["phigate_bytes_moved"]
        print(f"bytes through phigate over the run (psql output, all results and rounds): {moved:,} "
              f"({moved / 2**30:.2f} GiB); per result and run in the JSON")
    print()
    print(f"JSON: {args.json}")
    print(f"SVG:  {args.svg}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["run", "bulk"])
    p.add_argument("--raw", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--svg", required=True)
    p.add_argument("--meta", default="{}")
    args = p.parse_args()
    meta = json.loads(args.meta)
    (run if args.kind == "run" else bulk)(args, meta)


if __name__ == "__main__":
    sys.exit(main())
