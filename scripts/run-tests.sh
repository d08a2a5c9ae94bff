#!/usr/bin/env bash
# Run pytest in one environment profile's venv, with its bin/ first on PATH
# (the tests start `qiime`, Parsl's helpers and Jupyter kernels from there):
#   scripts/run-tests.sh PROFILE [pytest arguments]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROFILE=$1
shift
# shellcheck source=/dev/null
. "$ROOT/profiles/$PROFILE.env"
VENV=$ROOT/$VENV_NAME
echo "== $PROFILE: Python $PYTHON_VERSION, $QIIME_DEB, $("$VENV/bin/python" -c 'import parsl; print("parsl", parsl.__version__)')"
cd "$ROOT"
PATH=$VENV/bin:$PATH exec "$VENV/bin/python" -m pytest "$@"
