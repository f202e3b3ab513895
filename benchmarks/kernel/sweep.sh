#!/usr/bin/env bash
# Runs the kernel benchmark sweep and prints one table: pair, algorithm, speedup over OpenBLAS
# (same run), GB/s of weights, MACs/cycle, the target from performance.md and whether it is met.
#   benchmarks/kernel/sweep.sh <path to mpq_bench_kernels> [extra benchmark args...]
# Pin one thread for OpenBLAS; repetitions make the counters medians.
set -euo pipefail
bin=${1:?usage: sweep.sh <mpq_bench_kernels> [benchmark args...]}
shift
json=$(mktemp)
trap 'rm -f "$json"' EXIT
OPENBLAS_NUM_THREADS=1 "$bin" --benchmark_format=json --benchmark_out="$json" --benchmark_out_format=json \
  --benchmark_repetitions="${MPQ_SWEEP_REPETITIONS:-3}" --benchmark_report_aggregates_only=true "$@" >/dev/null
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" - "$json" <<'PYEOF'
import json, re, sys
data = json.load(open(sys.argv[1]))
ctx = data["context"]
gemv_targets = {1: 24.0, 2: 14.0, 4: 8.0, 8: 3.5}   # W{w}A8 (performance.md)
gemm_targets = {(8, 8): 2.5, (4, 4): 3.0, (2, 2): 5.0, (1, 1): 12.0}
rows = {}
for b in data["benchmarks"]:
    if b.get("aggregate_name") not in (None, "median"):
        continue
    name = b.get("run_name", b["name"])
    rows[name] = b
print(f"host: {ctx.get('host_name','?')}, {ctx.get('num_cpus','?')} cpus at {ctx.get('mhz_per_cpu','?')} MHz, load {ctx.get('load_avg','?')}")
print()
print("| benchmark | algorithm | speedup vs OpenBLAS | weights GB/s | MACs/cycle | target | met |")
print("|---|---|---|---|---|---|---|")
def key(n):
    m = re.match(r"BM_(gemv|gemm)/W(\d)A(\d)(.*)", n)
    return (m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)) if m else ("", 0, 0, n)
for name in sorted(rows, key=key):
    b = rows[name]
    m = re.match(r"BM_(gemv|gemm)/W(\d)A(\d)(.*)", name)
    if not m:
        continue
    op, w, a, rest = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    if rest:
        ratio = b.get("speedup_vs_1_thread")
        target = 1.8 if op == "gemm" else None  # performance.md sets it for GEMM only (GEMV shares DRAM)
        col = f"{ratio:.2f}x vs 1 thread" if ratio else "?"
    else:
        ratio = b.get("speedup_vs_sgemv" if op == "gemv" else "speedup_vs_sgemm")
        if op == "gemv":
            target = gemv_targets.get(w, 0.8 * 32 / w) if a == 8 else 0.8 * 32 / w
        else:
            target = gemm_targets.get((w, a))
        col = f"{ratio:.2f}x" if ratio is not None else "?"
    gbps = b.get("weights_GBps")
    met = "" if target is None or ratio is None else ("yes" if ratio >= target else "NO")
    print(f"| {name} | {b.get('label','')} | {col} | {gbps/1e9:.1f} |" if gbps else f"| {name} | {b.get('label','')} | {col} | - |",
          f"{b.get('MACs_per_cycle', 0):.1f} | {'' if target is None else f'{target:.2f}x'} | {met} |")
PYEOF
