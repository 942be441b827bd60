#!/usr/bin/env bash
# The peer's environment: benchmarks/.venv-pythae with torch 2.13.0 installed first (the same
# torch as vaekit's .venv; pip picks the build for this machine), then pythae 0.1.2 from PyPI.
# pythae 0.1.2 installs with torch 2.13.0 as it is (its own requirements: pydantic 2, numpy,
# scipy, scikit-learn, imageio, dill/cloudpickle, tqdm); the versions pip chose are written to
# benchmarks/results/pythae-env.txt.
set -euo pipefail
cd "$(dirname "$0")"
venv=.venv-pythae
if ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import pythae, torch" 2>/dev/null; }; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet torch==2.13.0
    "$venv/bin/python" -m pip install --quiet pythae==0.1.2
fi
mkdir -p results
"$venv/bin/python" -m pip freeze > results/pythae-env.txt
"$venv/bin/python" -c "import torch; print('pythae venv: torch', torch.__version__)"
