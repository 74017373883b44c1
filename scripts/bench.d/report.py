#!/usr/bin/env python3
"""scripts/bench's report: ratios against the baselines of the same run, the table for
docs/PERFORMANCE.md, results.json, and the plot (PNG with matplotlib, else a plain SVG).

    report.py OUT_DIR DOCS_DIR
"""
import json
import sys
from pathlib import Path

out, docs = Path(sys.argv[1]), Path(sys.argv[2])
machine = json.loads((out / "machine.json").read_text())
ceilings = [json.loads(l) for l in (out / "ceiling.json").read_text().splitlines() if l.strip()]
rows = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines() if l.strip()]
case = {r["case"]: r for r in rows if r["case"] != "bracket"}
# Which two baseline runs each measured phase ran between.
brackets = {r["measured"]: (r["before"], r["after"]) for r in rows if r["case"] == "bracket"}
runs = {name: r["wrk"] for name, r in case.items() if "wrk" in r}
rounds = sorted({int(n.rsplit("_r", 1)[1]) for n in case if n.startswith("unauthorized_r")})


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def per_round(name):
    return [runs[f"{name}_r{r}"] for r in rounds]


def numbered(prefix, names):
    """The names PREFIX1, PREFIX2, ... among NAMES, in the order they ran."""
    return sorted((n for n in names if n.startswith(prefix)), key=lambda n: int(n[len(prefix):]))


def series(name):
    """Every run of a case: the floor's baseline runs, a per-round case's rounds, or the one."""
    if name == "floor":
        return floor_runs
    if name in runs:
        return [runs[name]]
    if f"{name}_r{rounds[0]}" in runs:
        return per_round(name)
    return []


def typical(all_runs):
    """The run whose rate is the median (the lower one of an even count)."""
    ordered = sorted(all_runs, key=lambda w: w["expected_rps"])
    return ordered[(len(ordered) - 1) // 2]


def engine_label(c):
    """An engine's implementation, with the SIMD backend it picked when it says so."""
    return c["implementation"] + (f" ({c['backend']})" if c.get("backend") else "")


# Baselines, each run between two measured phases: a measured phase is compared with the
# mean of the runs before and after it, so that a drift over the phase cancels.
floor_runs = [runs[n] for n in numbered("floor_b", runs)]
floors = [w["expected_rps"] for w in floor_runs]
# The ceiling is the fastest Argon2id on this CPU, whatever agentgate uses: every engine is
# measured at the start, and the fastest of them again between the changes.
fastest = max(ceilings, key=lambda c: c["hashes_per_second"])
ceiling_measured = [case[n]["ceiling"] for n in numbered("ceiling_b", case)]
ceiling_rounds = [c["hashes_per_second"] / 2 for c in ceiling_measured]  # a change is 2 hashes
floor = median(floors)
ceiling_changes = median(ceiling_rounds)


def baseline(name):
    """The rate a measured phase is compared with: the mean of the baselines around it."""
    before, after = brackets[name]
    rate = lambda n: runs[n]["expected_rps"] if n in runs else case[n]["ceiling"]["hashes_per_second"] / 2
    return (rate(before) + rate(after)) / 2


targets = []


def target(name, ratios, goal, threshold, note=""):
    value = median(ratios)
    targets.append({"target": name, "value": value, "min": min(ratios), "max": max(ratios),
                    "rounds": ratios, "goal": goal,
                    "met": value >= threshold if threshold is not None else None, "note": note})


def against(name, baselines=None):
    """Per round: NAME's rate over its own baseline, or over BASELINES, one per round."""
    if baselines is None:
        baselines = [baseline(f"{name}_r{r}") for r in rounds]
    return [w["expected_rps"] / b for w, b in zip(per_round(name), baselines)]


target("cheap refusal (401) vs floor", against("unauthorized"), ">= 0.85", 0.85)
# What the 401's larger answer costs by itself: the floor answering its bytes.
target("floor replaying agentgate's 401 bytes vs floor", against("floor_401_bytes"),
       "not a target", None, "the most a 401 with these headers and this body can reach")
target("401 vs the floor replaying its bytes",
       against("unauthorized", [w["expected_rps"] for w in per_round("floor_401_bytes")]),
       "not a target", None, "what agentgate's own work costs")
target("401 with the access log on (default level, to a file) vs floor",
       against("unauthorized_logged"), ">= 0.80", 0.80)
target("415 vs floor", [runs["unsupported"]["expected_rps"] / floor], "not a target", None)
for fmt in ("json", "xml", "form"):
    target(f"{fmt.upper()} changes vs Argon2 ceiling", against(f"change_{fmt}"), ">= 0.90", 0.90)
p99 = runs["concurrent_cheap"]["p99_ms"]
memory = case["memory"]
mib = memory["vmhwm_kib_after"] / 1024

summary = {
    "machine": machine,
    "rounds": rounds,
    "ceilings_at_start": ceilings,
    "ceiling_engine": fastest.get("engine", fastest["implementation"]),
    "ceiling_runs_changes_per_second": ceiling_rounds,
    "floor_runs_requests_per_second": floors,
    "cases": rows,
    "targets": targets,
    "p99_cheap_under_hashing_ms": p99,
    "peak_rss_mib": mib,
}
(out / "results.json").write_text(json.dumps(summary, indent=1))

print(f"\n{machine.get('build', 'release')} build; {len(rounds)} rounds; ratios are the median of the per-round ratios, each against the mean of the baseline runs on either side of it (range in brackets)")
print("\n| target | measured | goal | met |\n|---|---|---|---|")
for t in targets:
    spread = f" ({t['min']:.2f} to {t['max']:.2f})" if len(t["rounds"]) > 1 else ""
    met = "" if t["met"] is None else ("yes" if t["met"] else "no")
    # Four digits where two would round a miss up to the goal (0.8964 against 0.90).
    value = f"{t['value']:.2f}"
    if t["met"] is False and value == t["goal"].split()[-1]:
        value = f"{t['value']:.4f}"
    print(f"| {t['target']} | {value}{spread} | {t['goal']} | {met} |")
print(f"| p99 of cheap requests while changes saturate | {p99:.1f} ms | <= 20 ms | "
      f"{'yes' if p99 <= 20 else 'no'} |")
print(f"| peak RSS (VmHWM), 1000 changes in flight | {mib:.1f} MiB | <= 256 MiB | "
      f"{'yes' if mib <= 256 and memory['alive_after'] else 'no'} |")

print("\n| case | requests/s (expected answers), per round (the floor: every run) | p50 ms | p99 ms | unexpected | socket errors |")
print("|---|---|---|---|---|---|")
labels = {
    "floor": "floor: bare actix-web `true`",
    "floor_401_bytes": "floor replaying agentgate's 401 byte for byte",
    "unauthorized": "401, no credentials (AGENTGATE_LOG=warn)",
    "unauthorized_logged": "401, no credentials, access log on (default info, to a file)",
    "unsupported": "415, text/plain, with a valid ticket",
    "change_json": "change, JSON",
    "change_xml": "change, XML",
    "change_form": "change, form",
    "concurrent_cheap": "401 while changes run",
    "concurrent_changes": "JSON changes alongside the 401s",
    "inflight_1000": "1000 connections of changes (200 false or 503)",
}
w = {}
for name, label in labels.items():
    all_runs = series(name)
    if not all_runs:
        continue
    w[name] = typical(all_runs)
    rates = " / ".join(f"{r['expected_rps']:.1f}" for r in all_runs)
    errors = sum(r["errors"][k] for r in all_runs for k in ("connect", "read", "write", "timeout"))
    unexpected = sum(r["unexpected"] for r in all_runs)
    p50 = median([r["p50_ms"] for r in all_runs])
    p99s_all = max(r["p99_ms"] for r in all_runs)
    print(f"| {label} | {rates} | {p50:.2f} | {p99s_all:.2f} | {unexpected} | {errors} |")
rates = " / ".join(f"{c:.1f}" for c in ceiling_rounds)
implementations = " / ".join(dict.fromkeys(engine_label(c) for c in ceiling_measured))
print(f"| Argon2 ceiling, {implementations}, {ceiling_measured[0]['threads']} threads, "
      f"every run, between the changes | {rates} changes/s | | | | |")

# Every engine measured at the start, one after the other: the fastest is the ceiling.
print(f"\n| Argon2id engine, at the start (m={fastest['memory_kib']} KiB, t={fastest['iterations']}, p=1, "
      f"{fastest['threads']} threads) | hashes/s | changes/s | ms per hash, every core | ms per hash, one thread |")
print("|---|---|---|---|---|")
for c in ceilings:
    mark = " **(fastest: the ceiling)**" if c is fastest else ""
    print(f"| {engine_label(c)}{mark} | {c['hashes_per_second']:.1f} | {c['hashes_per_second'] / 2:.1f} | "
          f"{1000 / c['hashes_per_second']:.1f} | {c['ms_per_hash']:.1f} |")
print(f"\npeak RSS: {memory['vmhwm_kib_before'] / 1024:.1f} MiB before the 1000-connection phase, "
      f"{mib:.1f} MiB after; alive afterwards: {memory['alive_after']}")
print("p50 is the median over the rounds, p99 the worst round's.")

# The plot: throughput (log scale) and p99 latency per case.
names = [n for n in labels if n in w]
rps = [w[n]["expected_rps"] for n in names]
p99s = [w[n]["p99_ms"] for n in names]
short_labels = {"floor": "floor", "floor_401_bytes": "floor, 401 bytes", "unauthorized": "401",
                "unauthorized_logged": "401, logged",
                "unsupported": "415", "change_json": "JSON change", "change_xml": "XML change",
                "change_form": "form change", "concurrent_cheap": "401 under load",
                "concurrent_changes": "changes beside 401s", "inflight_1000": "1000 in flight"}
short = [short_labels[n] for n in names]
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    a.barh(short, rps, color="#4c72b0")
    a.axvline(ceiling_changes, color="#c44e52", linestyle="--", label=f"Argon2 ceiling {ceiling_changes:.1f}/s")
    a.axvline(0.85 * floor, color="#55a868", linestyle=":", label=f"85% of floor {0.85 * floor:.0f}/s")
    a.set_xscale("log")
    a.set_xlabel("expected answers per second (log)")
    a.invert_yaxis()
    a.legend(fontsize=8, loc="lower right")
    b.barh(short, p99s, color="#8172b2")
    b.axvline(20, color="#c44e52", linestyle="--", label="20 ms")
    b.set_xscale("log")
    b.set_xlabel("p99 latency, ms (log)")
    b.invert_yaxis()
    b.set_yticklabels([])
    b.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"agentgate on {machine['nproc']} cores ({machine['cpu']}), {machine['seconds']} s per case, "
                 f"{machine.get('build', 'release')} build")
    fig.tight_layout()
    fig.savefig(docs / "performance.png", dpi=80)
    print(f"\nplot: {docs / 'performance.png'}")
except ImportError:
    # No matplotlib: a plain SVG, bars on a log scale.
    import math

    width, row, left = 900, 26, 190
    height = row * len(names) * 2 + 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">']
    parts.append(f'<text x="10" y="14">agentgate, {machine.get("build", "release")} build, on {machine["nproc"]} cores ({machine["cpu"]})</text>')
    top = 40
    for title, values, unit in (("answers/s", rps, "/s"), ("p99 ms", p99s, " ms")):
        parts.append(f'<text x="10" y="{top - 8}" font-weight="bold">{title} (log scale)</text>')
        hi = max(values) * 1.5
        for i, (label, v) in enumerate(zip(short, values)):
            y = top + i * row
            bar = (width - left - 120) * math.log10(max(v, 0.1) / 0.1) / math.log10(hi / 0.1)
            parts.append(f'<text x="10" y="{y + 15}">{label}</text>')
            parts.append(f'<rect x="{left}" y="{y + 3}" width="{bar:.1f}" height="{row - 8}" fill="#4c72b0"/>')
            parts.append(f'<text x="{left + bar + 5:.1f}" y="{y + 15}">{v:.1f}{unit}</text>')
        top += row * len(names) + 30
    parts.append("</svg>")
    (docs / "performance.svg").write_text("\n".join(parts))
    print(f"\nplot: {docs / 'performance.svg'}")
