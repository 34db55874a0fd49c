#!/usr/bin/env bash
# Run Parsl's own test suite (shipped in the parsl==2026.10.26 wheel) against a `parsl`.
#
#   scripts/upstream_suite.sh [--mode NAME]... [--label NAME] [--no-guard] [--[no-]isolate]
#                             [--prepare-only] [-- PYTEST_ARGS...]
#
# Modes are the ones Parsl's CI runs: threads (configs/local_threads.py), htex (htex_local.py),
# htex_alternate (htex_local_alternate.py) and local (`--config local`: each test module loads
# its own config). Default: all four, one after the other. --isolate runs one pytest process
# per test file (the default in local mode, where every module loads its own kernel anyway), so
# a test that hangs or crashes pytest costs its file only.
#
# PYTHON picks the interpreter (and so the `parsl`) under test: default is this repo's hatch-test
# environment; PYTHON=/tmp/up/venv/bin/python runs the same suite against upstream Parsl.
# The wheel is fetched at run time into .cache/upstream-suite/ (gitignored) and never committed;
# only parsl/tests/ is extracted, renamed to the package upstream_parsl_tests so it imports the
# interpreter's `parsl` rather than its own copy. scripts/upstream_suite_guard.py (a pytest
# plugin; --no-guard drops it) unloads a kernel a failed module left loaded in local mode, so one
# failure does not fail every later module with "Config has already been loaded".
#
# Results: .cache/upstream-suite/results/<label>/<mode>.{xml,log}; a counts table at the end.
# Compare two runs:  python3 scripts/upstream_suite_prepare.py compare --ours A.xml --upstream B.xml
set -euo pipefail

VERSION=2026.10.26
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${UPSTREAM_SUITE_CACHE:-$ROOT/.cache/upstream-suite}
HELPER=$ROOT/scripts/upstream_suite_prepare.py
WHEELS=$CACHE/wheels
SRC=$CACHE/src
PER_TEST_TIMEOUT=${PER_TEST_TIMEOUT:-300}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-3h}
FILE_TIMEOUT=${FILE_TIMEOUT:-30m}
ALL_MODES=(threads htex htex_alternate local)

# Deselections of Parsl's own CI (its Makefile runs every mode with -k "not cleannet"; the
# permission tests need a non-root user), plus executors that need systems not installed here.
KEYWORDS="not cleannet and not unix_filesystem_permissions_required"
MARKERS="not workqueue and not taskvine and not radical"

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

modes=() label="" prepare_only=0 extra=() guard=(-p upstream_suite_guard) isolate=auto
while [ $# -gt 0 ]; do
    case $1 in
        --mode) [ $# -ge 2 ] || usage 2; IFS=, read -ra m <<<"$2"; modes+=("${m[@]}"); shift 2 ;;
        --mode=*) IFS=, read -ra m <<<"${1#--mode=}"; modes+=("${m[@]}"); shift ;;
        --label) [ $# -ge 2 ] || usage 2; label=$2; shift 2 ;;
        --prepare-only) prepare_only=1; shift ;;
        --no-guard) guard=(); shift ;;
        --isolate) isolate=1; shift ;;
        --no-isolate) isolate=0; shift ;;
        -h|--help) usage 0 ;;
        --) shift; extra+=("$@"); break ;;
        *) extra+=("$1"); shift ;;
    esac
done
[ ${#modes[@]} -gt 0 ] || modes=("${ALL_MODES[@]}")

config_for() {
    case $1 in
        threads) echo "$SRC/upstream_parsl_tests/configs/local_threads.py" ;;
        htex) echo "$SRC/upstream_parsl_tests/configs/htex_local.py" ;;
        htex_alternate) echo "$SRC/upstream_parsl_tests/configs/htex_local_alternate.py" ;;
        local) echo local ;;
        *) echo "unknown mode '$1': choose from ${ALL_MODES[*]}" >&2; exit 2 ;;
    esac
}
for mode in "${modes[@]}"; do config_for "$mode" >/dev/null; done

if [ -z "${PYTHON:-}" ]; then
    env_dir=$(cd "$ROOT" && hatch env find hatch-test 2>/dev/null | head -n1 || true)
    PYTHON=$env_dir/bin/python
fi
[ -x "$PYTHON" ] || { echo "no Python at '$PYTHON': set PYTHON=/path/to/python" >&2; exit 2; }
if [ -z "$label" ]; then
    if "$PYTHON" -c "import importlib.metadata as m; m.distribution('parslcore')" 2>/dev/null; then
        label=ours
    else
        label=upstream
    fi
fi

# 1. the wheel (downloaded once) and the renamed suite
wheel=$WHEELS/parsl-$VERSION-py3-none-any.whl
if [ ! -f "$wheel" ]; then
    mkdir -p "$WHEELS"
    ${PIP:-python3 -m pip} download --no-deps "parsl==$VERSION" -d "$WHEELS"
fi
stamp=$(cat "$HELPER" "$ROOT/scripts/upstream_suite_guard.py" "$wheel" | sha1sum | cut -d' ' -f1)
if [ "$(cat "$SRC/.stamp" 2>/dev/null)" != "$stamp" ]; then
    python3 "$HELPER" prepare --wheel "$wheel" --dest "$SRC"
    cp "$ROOT/scripts/upstream_suite_guard.py" "$SRC/"
    echo "$stamp" >"$SRC/.stamp"
fi
[ "$prepare_only" = 1 ] && exit 0

# 2. one pytest run per mode; the interpreter's bin first on PATH, as in an activated venv, so
# worker and interchange commands resolve to the environment under test
RESULTS=$CACHE/results/$label
WORK=$CACHE/work/$label
mkdir -p "$RESULTS" "$WORK"
export PATH="$(dirname "$PYTHON"):$PATH"
export PYTHONPATH="$SRC${PYTHONPATH:+:$PYTHONPATH}"
echo "testing $("$PYTHON" -c 'import parsl, sys; print(parsl.__file__, parsl.__version__)') as '$label'"

# pytest over TARGETS... for one mode, junit to $xml, output appended to $log
run_pytest() {
    local mode=$1 xml=$2 log=$3 limit=$4; shift 4
    (cd "$WORK" && timeout -s INT -k 120 "$limit" \
        "$PYTHON" -m pytest "$@" \
        --config "$(config_for "$mode")" -k "$KEYWORDS" -m "$MARKERS" \
        -p no:cacheprovider -p no:randomly --timeout="$PER_TEST_TIMEOUT" --continue-on-collection-errors \
        --junitxml="$xml" -o junit_suite_name="$label-$mode" -q -rfE ${guard[@]+"${guard[@]}"} \
        ${extra[@]+"${extra[@]}"}) >>"$log" 2>&1
}

# the test files a mode selects, relative to $SRC (files that fail to import or skip included)
files_for() {
    (cd "$SRC" && "$PYTHON" -m pytest upstream_parsl_tests --collect-only -q \
        --config "$(config_for "$1")" -k "$KEYWORDS" -m "$MARKERS" -p no:cacheprovider \
        -p no:randomly --continue-on-collection-errors -rsE 2>/dev/null) |
        sed -n -e 's/^\(upstream_parsl_tests\/[^:]*\.py\)::.*/\1/p' \
               -e 's/^ERROR \(upstream_parsl_tests\/[^ ]*\.py\).*/\1/p' \
               -e 's/^SKIPPED \[[0-9]*\] \(upstream_parsl_tests\/[^:]*\.py\):.*/\1/p' | sort -u
}

status=0
xmls=()
for mode in "${modes[@]}"; do
    xml=$RESULTS/$mode.xml log=$RESULTS/$mode.log
    isolate_mode=$isolate
    [ "$isolate_mode" = auto ] && { [ "$mode" = local ] && isolate_mode=1 || isolate_mode=0; }
    echo "== $label / $mode -> $log"
    rm -f "$xml" "$log"
    if [ "$isolate_mode" = 1 ]; then
        # one pytest process per test file: a hang or crash costs that file, not the rest of the run
        parts=$RESULTS/$mode.d
        rm -rf "$parts" && mkdir -p "$parts"
        mapfile -t files < <(files_for "$mode")
        echo "   ${#files[@]} test files, one pytest process each"
        for f in "${files[@]}"; do
            echo "=== $f" >>"$log"
            part=$parts/$(echo "${f#upstream_parsl_tests/}" | tr / _).xml
            run_pytest "$mode" "$part" "$log" "$FILE_TIMEOUT" "$SRC/$f" || true
            [ -f "$part" ] || echo "no junit xml for $f (killed after $FILE_TIMEOUT?)" | tee -a "$log"
        done
        python3 "$HELPER" merge --out "$xml" "$parts"/*.xml
    else
        run_pytest "$mode" "$xml" "$log" "$SUITE_TIMEOUT" "$SRC/upstream_parsl_tests" || true
        tail -n 1 "$log"
    fi
    if [ -f "$xml" ]; then
        xmls+=("$xml")
        python3 "$HELPER" failed "$xml" >/dev/null || status=1
    else
        status=1
    fi
done

[ ${#xmls[@]} -gt 0 ] && python3 "$HELPER" summary "${xmls[@]}"
exit $status
