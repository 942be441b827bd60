#!/usr/bin/env bash
# The VQ-VAE quantisers on Fashion-MNIST at an equal code budget (16 codes of 8 bits each: 128
# bits per image; MLP trunk, so that it runs on a shared CPU): nearest code with and without dead-code restarts, nearest with k-means
# initialisation and cosine codes, the rotation trick, residual (2 stages of 16 codes), FSQ (4^4).
#
#   bash configs/vq_compare.sh OUT_DIR              # trains every variant not yet finished in OUT_DIR
#   EPOCHS=2 PRIOR_EPOCHS=3 LIMIT=2400 bash configs/vq_compare.sh OUT_DIR
#   python configs/vq_table.py OUT_DIR              # the markdown table of REPRODUCTION.md
#
# Rerunning resumes an interrupted variant (--resume) and skips finished ones; LIMIT (seconds) bounds
# each call; ONLY="nearest fsq" runs those variants only (to run several lanes side by side). PYTHON overrides the interpreter (default .venv/bin/python, else python3).
set -euo pipefail
out=${1:?usage: vq_compare.sh OUT_DIR}
epochs=${EPOCHS:-2}
prior_epochs=${PRIOR_EPOCHS:-3}
limit=${LIMIT:-3600}
py=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
common=(--data fashion-mnist --model vqvae --trunk mlp --latent-dim 8 --epochs "$epochs" --batch-size 128
        --set model.code_positions=16 --set model.trunk.hidden=[256] --set "model.code_prior.epochs=$prior_epochs")

variant() {
    local name=$1; shift
    local dir=$out/$name
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return 0; fi
    if [ -f "$dir/report.html" ]; then echo "$name: done"; return 0; fi
    if [ -f "$dir/last.safetensors" ]; then
        args=(--resume "$dir")
    else
        rm -rf "$dir"
        args=("${common[@]}" "$@" --out "$dir")
    fi
    echo "$name: vaekit train ${args[*]}"
    timeout "$limit" nice -n 19 "$py" -m vaekit.cli train "${args[@]}" || echo "$name: stopped (status $?)"
}

mkdir -p "$out"
paper=(--set model.quantizer.commitment=0.25)  # the table's runs used the paper's weight (the default until 0.3)
variant nearest --set model.quantizer.codebook_size=256 --set model.quantizer.restart=0 "${paper[@]}"
variant fsq --set model.quantizer.name=fsq --set model.quantizer.levels=[4,4,4,4]
variant rotation --set model.quantizer.codebook_size=256 --set model.quantizer.restart=0 --set model.quantizer.gradient=rotation \
    "${paper[@]}"
variant nearest-restarts --set model.quantizer.codebook_size=256 --set model.quantizer.restart=100 "${paper[@]}"
variant kmeans-cosine --set model.quantizer.codebook_size=256 --set model.quantizer.restart=0 --set model.quantizer.init=kmeans \
    --set model.quantizer.cosine=true "${paper[@]}"
variant residual --set model.quantizer.codebook_size=16 --set model.quantizer.restart=0 --set model.quantizer.name=residual \
    --set model.quantizer.codebooks=2 "${paper[@]}"
