#!/usr/bin/env bash
# The main job's deploy-and-report part (tools/main.sh): runs every shipped model with mpq_fmnist_deploy
# on the 10000 test images and checks it against what its fine-tuning recorded.
#
#   tools/fmnist_shipped.sh DEPLOY SHIPPED_DIR
#
# SHIPPED_DIR holds, per model, <key>_s<seed>.mpq (the packed model), <key>_s<seed>.tsv (the qat
# stage's record: LibTorch's integer-mode accuracy and the CRC-32 of its 10000 predictions) and the
# search results that chose the allocation (search_<budget>_<method>.tsv). Exit status 1 when a
# deployed model's predictions differ from the record.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: tools/fmnist_shipped.sh DEPLOY SHIPPED_DIR" >&2
  exit 2
fi
deploy=$1 dir=$2
shopt -s nullglob
models=("$dir"/*.mpq)
[ ${#models[@]} -gt 0 ] || { echo "fmnist_shipped: no *.mpq model in $dir" >&2; exit 1; }

source "$(dirname "$0")/fmnist_lib.sh"
value() { fmnist_value "$@"; }
field() { fmnist_result "$1" <<< "$2"; }

rows=() bad=0 i=0
for m in "${models[@]}"; do
  i=$((i + 1))
  name=$(basename "$m" .mpq)
  rec="$dir/$name.tsv"
  [ -f "$rec" ] || { echo "fmnist_shipped: $rec: the record of $name is missing" >&2; exit 1; }
  bits=$(value bits "$rec")
  echo "== model $i/${#models[@]}: $bits (seed $(value seed "$rec"))"
  out=$("$deploy" "$m" --single 1000) || { echo "fmnist_shipped: deploying $m failed" >&2; exit 1; }
  echo "$out" | grep -v '^results'
  line=$(echo "$out" | grep '^results')
  acc=$(field accuracy "$line") crc=$(field predictions_crc32 "$line")
  want_acc=$(value integer_accuracy "$rec") want_crc=$(value integer_predictions_crc32 "$rec")
  if [ "$crc" = "$want_crc" ]; then same="yes ($crc)"; else same="NO: $crc, recorded $want_crc"; bad=1; fi
  found="" bitops=""
  for s in "$dir"/search_*.tsv; do
    [ "$(value bits "$s")" = "$bits" ] || continue
    found+="${found:+, }$(value method "$s") at $(value budget "$s")"
    bitops=$(awk -v v="$(value bitops "$s")" 'BEGIN { printf "%.2f", v / 1e6 }')
  done
  pct() { awk -v a="$1" 'BEGIN { printf "%.2f", 100 * a }'; }
  rows+=("| $bits | ${found:-?} | ${bitops:-?} | $(pct "$want_acc") | $(pct "$acc") | $same | $(field single_us "$line") |")
done

echo
echo "| allocation (conv1 conv2 conv3 fc1 fc2) | chosen by | BitOps (M) | LibTorch integer mode (%) | deployed with mpq (%) | same 10000 predictions | µs/image (1 thread) |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ "$bad" -ne 0 ]; then
  echo "fmnist_shipped: a deployed model's predictions differ from its record" >&2
  exit 1
fi
