#!/usr/bin/env bash
# Installs what the isolation-forest baseline needs (scikit-learn from PyPI).
set -euo pipefail
python3 -m pip install --quiet scikit-learn
