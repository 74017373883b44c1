#!/usr/bin/env python3
"""scripts/bench's report of the upstream chain (issue 15): the gateway (`serve --upstream`)
in front of an origin (agentgate in local mode), each figure a ratio to the same request made
in local mode or directly at the origin, in the same round.

    chain_report.py OUT_DIR

Prints the targets and the cases as Markdown tables and writes OUT_DIR/chain.json.
"""
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
rows = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines() if l.strip()]
runs = {r["case"]: r["wrk"] for r in rows if "wrk" in r}
rounds = sorted({int(n.rsplit("_r", 1)[1]) for n in runs if n.startswith("chain_local401_r")})


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def per_round(name):
    return [runs[f"{name}_r{r}"] for r in rounds]


targets = []


def target(name, ratios, goal, threshold):
    value = median(ratios)
    targets.append({"target": name, "value": value, "min": min(ratios), "max": max(ratios),
                    "rounds": ratios, "goal": goal, "met": value >= threshold})


target("401 answered by the gateway vs the same 401 in local mode",
       [g["expected_rps"] / l["expected_rps"]
        for g, l in zip(per_round("chain_gateway401"), per_round("chain_local401"))],
       ">= 0.85", 0.85)
target("JSON changes through the gateway vs directly at the origin",
       [g["expected_rps"] / d["expected_rps"]
        for g, d in zip(per_round("chain_change_gateway"), per_round("chain_change_direct"))],
       ">= 0.95", 0.95)
added_cheap = [g["p99_ms"] - d["p99_ms"]
               for g, d in zip(per_round("chain_upstream401_gateway"), per_round("chain_upstream401_direct"))]
added_change = [g["p99_ms"] - d["p99_ms"]
                for g, d in zip(per_round("chain_change_gateway"), per_round("chain_change_direct"))]

(out / "chain.json").write_text(json.dumps({
    "rounds": rounds, "targets": targets,
    "p99_added_ms": {"upstream_401": added_cheap, "change": added_change},
    "cases": {n: w for n, w in runs.items() if n.startswith("chain_")},
}, indent=1))

print(f"\nupstream chain, {len(rounds)} rounds; ratios are the median of the per-round ratios (range in brackets)")
print("\n| target | measured | goal | met |\n|---|---|---|---|")
for t in targets:
    spread = f" ({t['min']:.2f} to {t['max']:.2f})" if len(t["rounds"]) > 1 else ""
    print(f"| {t['target']} | {t['value']:.2f}{spread} | {t['goal']} | {'yes' if t['met'] else 'no'} |")
print(f"| p99 the gateway adds, cheap upstream call (401) under load | {median(added_cheap):.2f} ms "
      f"({min(added_cheap):.2f} to {max(added_cheap):.2f}) | reported | |")
print(f"| p99 the gateway adds, changes under load | {median(added_change):.2f} ms "
      f"({min(added_change):.2f} to {max(added_change):.2f}) | reported | |")

labels = {
    "chain_local401": "401, no credentials, local mode (the origin)",
    "chain_gateway401": "401, no credentials, answered by the gateway",
    "chain_upstream401_direct": "unknown token, directly at the origin (401)",
    "chain_upstream401_gateway": "unknown token through the gateway (upstream 401)",
    "chain_change_direct": "JSON change, directly at the origin",
    "chain_change_gateway": "JSON change through the gateway",
}
print("\n| case | requests/s (expected answers), per round | p50 ms | p99 ms, per round | unexpected | socket errors |")
print("|---|---|---|---|---|---|")
for name, label in labels.items():
    all_runs = per_round(name)
    rates = " / ".join(f"{r['expected_rps']:.1f}" for r in all_runs)
    p99s = " / ".join(f"{r['p99_ms']:.2f}" for r in all_runs)
    errors = sum(r["errors"][k] for r in all_runs for k in ("connect", "read", "write", "timeout"))
    unexpected = sum(r["unexpected"] for r in all_runs)
    p50 = median([r["p50_ms"] for r in all_runs])
    print(f"| {label} | {rates} | {p50:.2f} | {p99s} | {unexpected} | {errors} |")
