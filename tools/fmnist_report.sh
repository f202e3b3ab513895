#!/usr/bin/env bash
# Writes the results of a full Fashion-MNIST pipeline run (tools/fmnist_full.sh) as a Markdown table
# and a Pareto plot (accuracy against BitOps, SVG by gnuplot).
#
#   tools/fmnist_report.sh WORK_DIR RESULTS.md PLOT.svg [PLOT_LINK]
#
# Reads WORK_DIR/fp32.tsv, search/<budget>_<method>.tsv, qat/<key>_s<seed>.tsv and
# deploy/<key>_s<seed>.txt; PLOT_LINK is how RESULTS.md refers to the plot (default: its file name).
# If RESULTS_notes.md exists next to RESULTS.md (the reading of the numbers, written by hand), it is
# appended. Also writes RESULTS_runs.tsv (one line per run).
# Writes RESULTS.md and PLOT.svg under temporary names and renames them, so a failure changes nothing.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: tools/fmnist_report.sh WORK_DIR RESULTS.md PLOT.svg [PLOT_LINK]" >&2
  exit 2
fi
work=$1 out_md=$2 out_svg=$3 link=${4:-$(basename "$3")}
for f in "$work/fp32.tsv" "$work/search"; do
  [ -e "$f" ] || { echo "fmnist_report: $f: not found (run tools/fmnist_full.sh first)" >&2; exit 1; }
done
command -v gnuplot > /dev/null || { echo "fmnist_report: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }

methods="uniform ilp greedy convex limpq qbitopt edmips guo uhlich"
budgets="bops2 bops3 bops4 size3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

source "$(dirname "$0")/fmnist_lib.sh"
value() { fmnist_value "$@"; }

# One line per (budget, method, seed) with everything the table and the plot need.
printf 'budget\tmethod\tbits\tbitops\tsize_bits\tsearch_s\tseed\tfake\tinteger\tdeployed\tcrc_equal\tsingle_us\n' > "$tmp/runs.tsv"
for b in $budgets; do
  for m in $methods; do
    s="$work/search/${b}_${m}.tsv"
    [ -f "$s" ] || continue
    if [ "$(value feasible "$s")" != 1 ]; then
      printf '%s\t%s\tnone\t0\t0\t%s\t-\t-\t-\t-\t-\t-\n' "$b" "$m" "$(value search_cpu_seconds "$s")" >> "$tmp/runs.tsv"
      continue
    fi
    bits=$(value bits "$s")
    key=$(fmnist_key "$bits")
    for q in "$work"/qat/"${key}"_s*.tsv; do
      [ -f "$q" ] || continue
      seed=$(value seed "$q")
      d="$work/deploy/${key}_s${seed}.txt"
      dep=- crc=- us=-
      if [ -f "$d" ] && grep -q '^results' "$d"; then
        dep=$(fmnist_result accuracy < "$d")
        us=$(fmnist_result single_us < "$d")
        [ "$(fmnist_result predictions_crc32 < "$d")" = "$(value integer_predictions_crc32 "$q")" ] && crc=1 || crc=0
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$b" "$m" "$bits" "$(value bitops "$s")" \
        "$(value size_bits "$s")" "$(value search_cpu_seconds "$s")" "$seed" "$(value fake_quant_accuracy "$q")" \
        "$(value integer_accuracy "$q")" "$dep" "$crc" "$us" >> "$tmp/runs.tsv"
    done
  done
done

# Aggregate over seeds: mean and sample standard deviation (in percent).
awk -F'\t' '
  NR == 1 { next }
  {
    k = $1 SUBSEP $2
    if (!(k in bits)) { order[++n] = k; bits[k] = $3; bops[k] = $4; size[k] = $5; ss[k] = $6 }
    if ($7 == "-") next
    c[k]++; f[k] += 100 * $8; f2[k] += (100 * $8) ^ 2
    if ($10 != "-") { dc[k]++; dd[k] += 100 * $10; dd2[k] += (100 * $10) ^ 2 }
    if ($11 == 1) eq[k]++
    if ($12 != "-" && $7 == 0) us[k] = $12
  }
  function sd(s, s2, m) { return m > 1 ? sqrt((s2 - s * s / m) / (m - 1) > 0 ? (s2 - s * s / m) / (m - 1) : 0) : 0 }
  END {
    OFS = "\t"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, p, SUBSEP)
      fm = c[k] ? f[k] / c[k] : -1; fs = c[k] ? sd(f[k], f2[k], c[k]) : 0
      dm = dc[k] ? dd[k] / dc[k] : -1; ds = dc[k] ? sd(dd[k], dd2[k], dc[k]) : 0
      print p[1], p[2], bits[k], bops[k], size[k], ss[k], c[k] + 0, fm, fs, dm, ds, eq[k] + 0, dc[k] + 0, (k in us) ? us[k] : "-"
    }
  }' "$tmp/runs.tsv" > "$tmp/summary.tsv"

fp32=$(value fp32_test_accuracy "$work/fp32.tsv")
qat_epochs=$(awk -F'\t' '$1 == "epochs" { print $2; exit }' "$work"/qat/*.tsv 2>/dev/null || true)

{
  echo "| budget | method | bits per layer (conv1 conv2 conv3 fc1 fc2) | BitOps (M) | weights (KiB) | search (CPU s) | test accuracy, fake-quant (%) | deployed (%) | deployed = integer mode | µs/image |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '
    function budget_name(b) {
      if (b ~ /^bops/) return "W" substr(b, 5) "A" substr(b, 5) " BitOps"
      return "W" substr(b, 5) " size"
    }
    {
      acc = $7 > 0 ? sprintf("%.2f ± %.2f (n=%d)", $8, $9, $7) : "not run"
      dep = $13 > 0 ? sprintf("%.2f ± %.2f", $10, $11) : "-"
      eq = $13 > 0 ? sprintf("%d of %d", $12, $13) : "-"
      if ($3 == "none") { acc = "no feasible allocation"; dep = "-"; eq = "-" }
      printf "| %s | %s | %s | %.2f | %.1f | %.1f | %s | %s | %s | %s |\n", budget_name($1), $2, $3, $4 / 1e6,
             $5 / 8 / 1024, $6, acc, dep, eq, $14
    }' "$tmp/summary.tsv"
} > "$tmp/table.md"

# The plot: one point per (method, budget) with its standard deviation; uniform as a line.
awk -F'\t' '$7 > 0 && $1 ~ /^bops/ { print $2, $4 / 1e6, $8, $9 }' "$tmp/summary.tsv" > "$tmp/points.dat"
{
  echo "set terminal svg size 900,560 dynamic font 'sans,12'"
  echo "set output '$tmp/plot.svg'"
  echo "set title 'Fashion-MNIST: test accuracy against BitOps (mean ± std over seeds; FP32 $(awk -v a="$fp32" 'BEGIN{printf "%.2f", 100 * a}') %)'"
  echo "set xlabel 'BitOps per image (millions)'"
  echo "set ylabel 'test accuracy, fake-quant (%)'"
  echo "set key bottom right"
  echo "set grid"
  printf "plot "
  first=1
  for m in $methods; do
    grep -q "^$m " "$tmp/points.dat" || continue
    [ $first = 1 ] || printf ", "
    first=0
    if [ "$m" = uniform ]; then
      printf "'< grep \"^uniform \" %s | sort -k2 -g' using 2:3:4 with yerrorlines lw 2 lc rgb 'black' title 'uniform'" "$tmp/points.dat"
    else
      printf "'< grep \"^%s \" %s' using 2:3:4 with yerrorbars pointsize 1.2 title '%s'" "$m" "$tmp/points.dat" "$m"
    fi
  done
  echo
} > "$tmp/plot.gp"
gnuplot "$tmp/plot.gp"

{
  echo "# Results: mixed precision on Fashion-MNIST"
  echo
  echo "Generated by \`tools/fmnist_report.sh\` from a full run of \`tools/main.sh --full\` (the pipeline in"
  echo "[e2e.md](e2e.md)). FP32 network: $(awk -v a="$fp32" 'BEGIN{printf "%.2f", 100 * a}') % test accuracy. Every allocation is fine-tuned with"
  echo "the same QAT recipe ($qat_epochs epoch(s), see e2e.md), once per seed; accuracy is on the 10000 test images."
  echo "\"deployed\" is mpq_fmnist_deploy (mpq's packed kernels, no LibTorch); \"deployed = integer mode\""
  echo "counts the seeds whose 10000 predicted labels have the same CRC-32 in both. µs/image: one image at a"
  echo "time, one thread, seed 0's model."
  echo
  cat "$tmp/table.md"
  echo
  echo "![accuracy against BitOps]($link)"
  echo
  echo "## The run"
  echo
  echo "- Commit: ${MPQ_FMNIST_COMMIT:-$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)}; command: \`./tools/main.sh --full\`"
  echo "  (\`tools/fmnist_full.sh\`; seeds and epochs as above)."
  echo "- Machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)."
  echo "- FP32 training: $(value fp32_epochs "$work/fp32.tsv") epochs, $(value fp32_seconds "$work/fp32.tsv") s."
  echo "- Searches: the table's search column sums to $(awk -F'\t' '$1 == "search_cpu_seconds" { s += $2 } END { printf "%.0f", s }' "$work"/search/*.tsv) CPU s (shared work, the sensitivities"
  echo "  and LIMPQ's indicators, is counted in every line that used it)."
  echo "- QAT: $(ls "$work"/qat/*.tsv | wc -l) runs, $(awk -F'\t' '$1 == "qat_cpu_seconds" { s += $2 } END { printf "%.0f", s }' "$work"/qat/*.tsv) CPU s in all."
  # The reading of the numbers is written by hand, next to the generated file.
  notes="$(dirname "$out_md")/$(basename "$out_md" .md)_notes.md"
  if [ -f "$notes" ]; then
    echo
    cat "$notes"
  fi
} > "$tmp/results.md"

mv "$tmp/plot.svg" "$out_svg.partial" && mv "$out_svg.partial" "$out_svg"
cp "$tmp/results.md" "$out_md.partial" && mv "$out_md.partial" "$out_md"
cp "$tmp/runs.tsv" "$(dirname "$out_md")/$(basename "$out_md" .md)_runs.tsv.partial"
mv "$(dirname "$out_md")/$(basename "$out_md" .md)_runs.tsv.partial" "$(dirname "$out_md")/$(basename "$out_md" .md)_runs.tsv"
echo "fmnist_report: wrote $out_md, $out_svg and $(dirname "$out_md")/$(basename "$out_md" .md)_runs.tsv"
