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
case = {r["case"]: r for r in rows}
w = {name: r["wrk"] for name, r in case.items() if "wrk" in r}

# RustCrypto's ceiling is measured before the change cases and again after them; the mean
# of both stands for it, so the machine's drift during the run shows on both sides.
after_file = out / "ceiling_after.json"
if after_file.exists():
    after = json.loads(after_file.read_text().strip().splitlines()[0])
    for c in ceilings:
        if c["implementation"] == after["implementation"]:
            c["runs_hashes_per_second"] = [c["hashes_per_second"], after["hashes_per_second"]]
            c["hashes_per_second"] = (c["hashes_per_second"] + after["hashes_per_second"]) / 2
            c["ms_per_hash"] = 1000 * c["threads"] / c["hashes_per_second"]
best = max(ceilings, key=lambda c: c["hashes_per_second"])
ceiling_changes = best["hashes_per_second"] / 2
# The floor is measured before and after the cheap cases; their mean is the baseline.
floors = [w[n]["expected_rps"] for n in ("floor", "floor_after") if n in w]
floor = sum(floors) / len(floors)
memory = case["memory"]

targets = []


def target(name, value, goal, ok, unit=""):
    targets.append({"target": name, "value": value, "goal": goal, "met": ok, "unit": unit})


target("cheap refusal (401) vs floor", w["unauthorized"]["expected_rps"] / floor, ">= 0.70",
       w["unauthorized"]["expected_rps"] / floor >= 0.70)
if "unauthorized_logged" in w:
    r = w["unauthorized_logged"]["expected_rps"] / floor
    target("401 with the access log on (default level) vs floor", r, ">= 0.70 (not a target)", r >= 0.70)
target("415 vs floor", w["unsupported"]["expected_rps"] / floor, ">= 0.70 (not a target)",
       w["unsupported"]["expected_rps"] / floor >= 0.70)
for fmt in ("json", "xml", "form"):
    r = w[f"change_{fmt}"]["expected_rps"] / ceiling_changes
    target(f"{fmt.upper()} changes vs Argon2 ceiling", r, ">= 0.85", r >= 0.85)
p99 = w["concurrent_cheap"]["p99_ms"]
target("p99 of cheap requests while changes saturate", p99, "<= 20 ms", p99 <= 20, " ms")
mib = memory["vmhwm_kib_after"] / 1024
target("peak RSS (VmHWM), 1000 changes in flight", mib, "<= 256 MiB",
       mib <= 256 and memory["alive_after"], " MiB")

summary = {
    "machine": machine,
    "ceilings": ceilings,
    "ceiling_changes_per_second": ceiling_changes,
    "floor_requests_per_second": floor,
    "ceiling_implementation": best["implementation"],
    "cases": rows,
    "targets": targets,
}
(out / "results.json").write_text(json.dumps(summary, indent=1))

print("\n| target | measured | goal | met |\n|---|---|---|---|")
for t in targets:
    value = f"{t['value']:.1f}{t['unit']}" if t["unit"] else f"{t['value']:.2f}"
    print(f"| {t['target']} | {value} | {t['goal']} | {'yes' if t['met'] else 'no'} |")

print("\n| case | requests/s (expected answers) | p50 ms | p99 ms | unexpected | socket errors |")
print("|---|---|---|---|---|---|")
labels = {
    "floor": "floor: bare actix-web `true`",
    "floor_after": "floor, again after the 401 and 415 cases",
    "unauthorized": "401, no credentials (AGENTGATE_LOG=warn)",
    "unauthorized_logged": "401, no credentials, access log on (default info, to a file)",
    "unsupported": "415, text/plain",
    "change_json": "change, JSON",
    "change_xml": "change, XML",
    "change_form": "change, form",
    "concurrent_cheap": "401 while changes run",
    "concurrent_changes": "JSON changes alongside the 401s",
    "inflight_1000": "1000 connections of changes (200 false or 503)",
}
for name, label in labels.items():
    if name not in w:
        continue
    r = w[name]
    errors = sum(r["errors"][k] for k in ("connect", "read", "write", "timeout"))
    print(f"| {label} | {r['expected_rps']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
          f"{r['unexpected']} | {errors} |")
for c in ceilings:
    runs = c.get("runs_hashes_per_second")
    runs = f"; mean of {runs[0]:.1f} before and {runs[1]:.1f} after the changes" if runs else ""
    print(f"| Argon2 ceiling, {c['implementation']}, {c['threads']} threads | "
          f"{c['hashes_per_second'] / 2:.1f} changes/s ({c['hashes_per_second']:.1f} hashes/s, "
          f"{c['ms_per_hash']:.1f} ms each{runs}) | | | | |")
print(f"\npeak RSS: {memory['vmhwm_kib_before'] / 1024:.1f} MiB before the 1000-connection phase, "
      f"{mib:.1f} MiB after; alive afterwards: {memory['alive_after']}")

# The plot: throughput (log scale) and p99 latency per case.
names = [n for n in labels if n in w]
rps = [w[n]["expected_rps"] for n in names]
p99s = [w[n]["p99_ms"] for n in names]
short_labels = {"floor": "floor", "floor_after": "floor again", "unauthorized": "401",
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
    a.axvline(0.7 * floor, color="#55a868", linestyle=":", label=f"70% of floor {0.7 * floor:.0f}/s")
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
    fig.suptitle(f"agentgate on {machine['nproc']} cores ({machine['cpu']}), {machine['seconds']} s per case")
    fig.tight_layout()
    fig.savefig(docs / "performance.png", dpi=80)
    print(f"\nplot: {docs / 'performance.png'}")
except ImportError:
    # No matplotlib: a plain SVG, bars on a log scale.
    import math

    width, row, left = 900, 26, 190
    height = row * len(names) * 2 + 80
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">']
    top = 30
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
