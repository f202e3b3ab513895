#!/usr/bin/env bash
# The full Fashion-MNIST pipeline of docs/e2e.md: FP32 training, sensitivities, every search strategy at
# every budget, QAT of every allocation with 3 seeds, deployment of every fine-tuned model with mpq's
# kernels, and the report (docs/results.md and docs/results_pareto.svg).
#
#   tools/fmnist_full.sh PIPELINE DEPLOY WORK_DIR RESULTS.md PLOT.svg
#
# PIPELINE and DEPLOY are the built mpq_fmnist_pipeline and mpq_fmnist_deploy. A step whose output
# already exists in WORK_DIR is skipped, so an interrupted run resumes where it stopped.
# Environment: MPQ_FMNIST_SEEDS (default "0 1 2"), MPQ_FMNIST_QAT_EPOCHS (default 1),
# MPQ_FMNIST_FP32_EPOCHS (default 8), MPQ_FMNIST_DATA (default Debian's dataset directory).
set -euo pipefail

if [ $# -ne 5 ]; then
  echo "usage: tools/fmnist_full.sh PIPELINE DEPLOY WORK_DIR RESULTS.md PLOT.svg" >&2
  exit 2
fi
pipeline=$1 deploy=$2 work=$3 results=$4 plot=$5
seeds=${MPQ_FMNIST_SEEDS:-0 1 2}
qat_epochs=${MPQ_FMNIST_QAT_EPOCHS:-1}
fp32_epochs=${MPQ_FMNIST_FP32_EPOCHS:-8}
data_args=()
[ -n "${MPQ_FMNIST_DATA:-}" ] && data_args=(--data "$MPQ_FMNIST_DATA")
methods="uniform ilp greedy convex limpq qbitopt edmips guo uhlich"
budgets="bops2 bops3 bops4 size3"
mkdir -p "$work/search" "$work/qat" "$work/deploy"
source "$(dirname "$0")/fmnist_lib.sh"

start=$(date +%s)
fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
# step NAME DONE TOTAL: a progress line with the elapsed time and an estimate from the steps so far.
phase_start=0 phase_done=0
step() {
  local now; now=$(date +%s)
  local eta="estimating"
  if [ "$2" -gt 0 ]; then eta="about $(fmt $(( (now - phase_start) * ($3 - $2) / $2 ))) left in this phase"; fi
  echo "== [$(fmt $((now - start)))] $1 ($(($2 + 1))/$3; $eta)"
}

# 1. FP32 network.
if [ ! -f "$work/fp32.pt" ]; then
  echo "== [$(fmt 0)] fp32: training the float network for $fp32_epochs epochs (about 45 s per epoch on 2 cores)"
  "$pipeline" fp32 --work "$work" --epochs "$fp32_epochs" "${data_args[@]}"
fi

# 2. Post-training sensitivities (ilp, greedy and convex use them).
if [ ! -f "$work/sensitivity.tsv" ]; then
  echo "== [$(fmt $(($(date +%s) - start)))] sensitivity: 203 single-layer measurements (about 3 min)"
  "$pipeline" sensitivity --work "$work" "${data_args[@]}"
fi

# 3. Every strategy at every budget.
todo=()
for b in $budgets; do
  for m in $methods; do [ -f "$work/search/${b}_${m}.tsv" ] || todo+=("$b $m"); done
done
phase_start=$(date +%s) phase_done=0
for t in "${todo[@]}"; do
  read -r b m <<< "$t"
  step "search $m at $b" "$phase_done" "${#todo[@]}"
  "$pipeline" search --work "$work" --method "$m" --budget "$b" "${data_args[@]}"
  phase_done=$((phase_done + 1))
done

# 4. QAT: every distinct feasible allocation, every seed (the same allocation found by two
# strategies is fine-tuned once per seed).
allocs=$(for f in "$work"/search/*.tsv; do
  awk -F'\t' '$1 == "feasible" { ok = $2 } $1 == "bits" { bits = $2 } END { if (ok == 1) print bits }' "$f"
done | sort -u)
todo=()
while IFS= read -r bits; do
  [ -n "$bits" ] || continue
  key=$(fmnist_key "$bits")
  for s in $seeds; do [ -f "$work/qat/${key}_s${s}.tsv" ] || todo+=("$key $s"); done
done <<< "$allocs"
phase_start=$(date +%s) phase_done=0
for t in "${todo[@]}"; do
  read -r key s <<< "$t"
  step "qat $key seed $s ($qat_epochs epoch(s))" "$phase_done" "${#todo[@]}"
  "$pipeline" qat --work "$work" --bits "$key" --seed "$s" --epochs "$qat_epochs" "${data_args[@]}"
  phase_done=$((phase_done + 1))
done

# 5. Deployment of every fine-tuned model with mpq's kernels (no LibTorch).
todo=()
for q in "$work"/qat/*.tsv; do
  name=$(basename "$q" .tsv)
  [ -f "$work/deploy/${name}.txt" ] || todo+=("$name")
done
phase_start=$(date +%s) phase_done=0
for name in "${todo[@]}"; do
  step "deploy $name" "$phase_done" "${#todo[@]}"
  "$deploy" "$work/models/${name}.mpq" --single 300 "${data_args[@]}" > "$work/deploy/${name}.txt.partial"
  mv "$work/deploy/${name}.txt.partial" "$work/deploy/${name}.txt"
  phase_done=$((phase_done + 1))
done

# 6. The report.
"$(dirname "$0")/fmnist_report.sh" "$work" "$results" "$plot"
echo "== [$(fmt $(($(date +%s) - start)))] done: $results, $plot"
