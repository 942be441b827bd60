#!/usr/bin/env bash
# Set up vaekit on a fresh machine: a virtual environment in .venv with the CPU build of
# PyTorch installed first (so no dependency pulls a CUDA build), then vaekit itself.
#   --test   also install the test dependencies and, when running as root, Debian's
#            Fashion-MNIST package (the tests that read it need its files) and Debian's
#            chromium with chromium-driver (the explorer's page tests drive them).
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0
if [ "$want_test" = 1 ]; then
    .venv/bin/python -m pip install --quiet -e '.[test]'
    fashion=/usr/share/datasets/fashion-mnist
    if [ ! -d "$fashion" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null \
            || echo "setup: could not install dataset-fashion-mnist; its tests will be skipped" >&2
    fi
    if [ ! -x /usr/bin/chromedriver ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null \
            || echo "setup: could not install chromium and chromium-driver; the explorer's page tests will be skipped" >&2
    fi
else
    .venv/bin/python -m pip install --quiet -e .
fi
