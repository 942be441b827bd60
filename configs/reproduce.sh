#!/usr/bin/env bash
# Train one row of the published Fashion-MNIST table, then evaluate it with K = 5,000.
# usage: configs/reproduce.sh ROW [--epochs N] [other 'vaekit train' options]
#   ROW: fmnist-vae, fmnist-vamp, fmnist-hvae, fmnist-conv-hvae or fmnist-conv-hvae-exemplar (configs/ROW.yaml)
#   the run folder is runs/ROW-DATE-TIME, or $OUT; the command is $VAEKIT, else .venv/bin/vaekit, else vaekit;
#   EVAL_EXAMPLES=N scores only the first N test images (for rows too costly to score in full)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 1 || "$1" == -* ]]; then
  sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
row="${1%.yaml}"
shift
config="$here/$row.yaml"
if [[ ! -f "$config" ]]; then
  rows="$(cd "$here" && ls -- *.yaml | sed 's/\.yaml$//' | tr '\n' ' ')"
  echo "reproduce.sh: $config: no such row; rows: $rows" >&2
  exit 2
fi
vaekit="${VAEKIT:-}"
if [[ -z "$vaekit" ]]; then
  vaekit="$here/../.venv/bin/vaekit"
  [[ -x "$vaekit" ]] || vaekit=vaekit
fi
out="${OUT:-runs/$row-$(date +%Y%m%d-%H%M%S)}"

"$vaekit" train --config "$config" --out "$out" "$@"
"$vaekit" eval "$out" --k 5000 ${EVAL_EXAMPLES:+--examples "$EVAL_EXAMPLES"}
