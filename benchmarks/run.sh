#!/usr/bin/env bash
# Reproduce every figure in BENCHMARKS.md from a fresh clone (about an hour on 2 CPU cores):
#
#   bash benchmarks/run.sh                  # CPU: all parts, then BENCHMARKS.md
#   bash benchmarks/run.sh --device cuda    # the same on a GPU (results/*-cuda.json), then BENCHMARKS.md
#   bash benchmarks/run.sh --quick          # a smoke run (small data, 2 epochs): checks the scripts only
#
# Needs: python3, Fashion-MNIST in /usr/share/datasets/fashion-mnist (Debian package
# dataset-fashion-mnist; FASHION_MNIST_DIR overrides), and pip access to PyPI for the peer's venv.
# Extra arguments after --device go to every script (e.g. --threads 1).
set -euo pipefail
cd "$(dirname "$0")/.."
device=cpu
quick=0
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --device) device="$2"; shift 2 ;;
        --quick) quick=1; shift ;;
        *) extra+=("$1"); shift ;;
    esac
done
[ -x .venv/bin/python ] || bash scripts/setup.sh
bash benchmarks/setup_pythae.sh
py=.venv/bin/python
name=()
[ "$device" != cpu ] && name=(--name "$device")
if [ "$quick" = 1 ]; then
    name=(--name "quick-$device")
    $py benchmarks/train_speed.py --device "$device" --epochs 2 --rounds 1 --train-size 4096 "${name[@]}" "${extra[@]}"
    $py benchmarks/eval_speed.py --device "$device" --k 100 --n 100 --rounds 1 --full-k 10 --epochs 1 "${name[@]}" "${extra[@]}"
    $py benchmarks/memory.py --device "$device" --epochs 1 --models tutorial --batches 128 "${name[@]}"
    $py benchmarks/scaling.py --device "$device" --examples 2048 --epochs 1 --batches 64,256 --widths 256 --latents 8 --ks 1,10 --eval-n 100 "${name[@]}" "${extra[@]}"
    exit 0
fi
$py benchmarks/matmul_limit.py --device "$device" "${extra[@]}"
$py benchmarks/train_speed.py --device "$device" "${name[@]}" "${extra[@]}"
$py benchmarks/eval_speed.py --device "$device" "${name[@]}" "${extra[@]}"
$py benchmarks/memory.py --device "$device" "${name[@]}"
$py benchmarks/scaling.py --device "$device" "${name[@]}" "${extra[@]}"
[ "$device" = cpu ] && $py benchmarks/explore_latency.py
if [ "$device" = cpu ]; then $py benchmarks/disentanglement_speed.py "${extra[@]}"; fi
$py benchmarks/distributed.py --device "$device" "${name[@]}"
[ "$device" = cpu ] && $py benchmarks/sweep_speed.py
$py benchmarks/report.py
