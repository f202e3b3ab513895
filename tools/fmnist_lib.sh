# Sourced by tools/fmnist_*.sh: readers of the Fashion-MNIST pipeline's record files.
# (No "| head" or early-exiting reader after a pipe: with pipefail, the writer's SIGPIPE would fail
# the calling script.)

# fmnist_value KEY FILE: the value of KEY in a "key<TAB>value" record (search/, qat/, fp32.tsv).
fmnist_value() { awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# fmnist_result FIELD < TEXT: FIELD's value in mpq_fmnist_deploy's tab-separated "results" line.
fmnist_result() {
  awk -F'\t' -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }'
}

# fmnist_key "W4A8 W3A3 ...": the allocation's file-name key, "4.8-3.3-...".
fmnist_key() { echo "$1" | sed -E 's/W([0-9])A([0-9])/\1.\2/g; s/ /-/g'; }
