#!/usr/bin/env bash
# Run the peer comparison end to end: build fusedframe's engine bench and CLI (release), time
# the peers (benches/peers.py: Polars, NumPy, DuckDB, scikit-learn), fusedframe in process
# (benches/engine.rs) and the fusedframe CLI in a fresh process per run (benches/queries/*.fq)
# on the same files, group by group in turn, and print one table (benches/report.py): each
# workload's median seconds per system, the ratio fusedframe / fastest peer whose answer agrees
# (below 1 means fusedframe is faster; a peer whose answer differs shows `≠answer`), the CLI's
# median seconds and peak RSS, then peak memory; and the same as a markdown table to paste
# into README.md.
#
# Usage: benches/run.sh [GROUPS_OR_WORKLOADS]
# Environment (all optional):
#   DATA_DIR   data made by benches/gen_data.py (default /work/bench-data, or its seed/
#              subdirectory when the seed table is there)
#   N          seed table rows (default 10000000)
#   REPS       timed runs per workload and system; the table shows their median (default 5)
#   PYTHON     interpreter with numpy, polars, pyarrow, duckdb, scikit-learn (default
#              /work/venv/bin/python, else python3)
#   OUT_DIR    where the raw outputs go (default target/bench-results/<timestamp>)
#   SKIP_PEERS=1        reuse peers.tsv from PEERS_TSV (or OUT_DIR) instead of re-running
#   PEERS_TSV  a saved peers.py output to reuse with SKIP_PEERS=1 (its answers: peers.err
#              beside it)
#   SKIP_CLI=1 leave out the fresh-process CLI runs
# Groups: scan pipeline describe filter_agg ops csv kmeans pca mem (default: all).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
N="${N:-10000000}"
REPS="${REPS:-5}"
export REPS
if [[ -z "${DATA_DIR:-}" ]]; then
  DATA_DIR=/work/bench-data
  [[ -f "$DATA_DIR/seed_$N.parquet" || ! -f "$DATA_DIR/seed/seed_$N.parquet" ]] || DATA_DIR=/work/bench-data/seed
fi
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /work/venv/bin/python ]]; then PYTHON=/work/venv/bin/python; else PYTHON=python3; fi
fi
OUT_DIR="${OUT_DIR:-$repo/target/bench-results/$(date +%Y%m%d-%H%M%S)}"
which="${1:-scan,pipeline,describe,filter_agg,ops,csv,kmeans,pca,mem}"
mkdir -p "$OUT_DIR"

if [[ ! -f "$DATA_DIR/seed_$N.parquet" ]]; then
  echo "no $DATA_DIR/seed_$N.parquet: run '$PYTHON benches/gen_data.py $DATA_DIR $N'" >&2
  echo "(or without Python: cargo run --release --example gen_seed -- $DATA_DIR $N)" >&2
  exit 1
fi

{
  echo "date: $(date -Is)"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD) ($(git -C "$repo" rev-parse --abbrev-ref HEAD))"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "L3: $(lscpu 2>/dev/null | awk -F: '/L3 cache/ {gsub(/^ +/, "", $2); print $2}')"
  echo "kernel: $(uname -sr)"
  echo "free -h:"; free -h | sed 's/^/  /'
  echo "rustc: $(rustc --version)"
  echo "peers: $("$PYTHON" -c 'import sys, polars, numpy, duckdb, sklearn, pyarrow; print("python", sys.version.split()[0], "polars", polars.__version__, "numpy", numpy.__version__, "duckdb", duckdb.__version__, "scikit-learn", sklearn.__version__, "pyarrow", pyarrow.__version__)' 2>&1)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "data: $DATA_DIR (N=$N)"
  echo "reps: $REPS (median reported)"
} > "$OUT_DIR/machine.txt"

echo "== answer comparison self-test (benches/answers.py)" >&2
"$PYTHON" "$here/answers.py" selftest >&2
echo "== building (cargo bench --no-run and the CLI, release profile)" >&2
(cd "$repo" && cargo bench --bench engine --no-run && cargo build --release --bin fusedframe) >&2
cli_bin="$repo/target/release/fusedframe"

engine() {
  (cd "$repo" && cargo bench -q --bench engine -- "$DATA_DIR" "$N" "$1") \
    2> >(tee -a "$OUT_DIR/engine.err" >&2) | tee -a "$OUT_DIR/engine.tsv" >&2
}

# Seconds since the epoch, microseconds (bash 5).
now() { echo "${EPOCHREALTIME/,/.}"; }

# One fresh-process run of a script: `seconds peak_bytes` on stdout. Peak RSS from GNU time,
# else the largest waited-for child's ru_maxrss through a Python wrapper (which then floors at
# the wrapper's own few MiB: a child inherits its parent's high-water mark across exec).
cli_once() {
  local script="$1" out="$2" rss="$OUT_DIR/cli-out/rss" t0 t1
  t0="$(now)"
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f %M -o "$rss" "$cli_bin" run "$script" --output "$out" \
      >/dev/null 2>>"$OUT_DIR/cli.err" || return 1
  else
    "$PYTHON" -c 'import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)' "$rss" "$cli_bin" run "$script" --output "$out" >/dev/null 2>>"$OUT_DIR/cli.err" \
      || return 1
  fi
  t1="$(now)"
  echo "$t0 $t1 $(tail -n1 "$rss")" | awk '{ printf "%.6f %d\n", $2 - $1, $3 * 1024 }'
}

# The CLI column: each workload with a script in benches/queries/ (made concrete for DATA_DIR
# and N), REPS fresh processes, each writing the result to an Arrow file; the median seconds,
# min, max and the largest peak RSS go to cli.tsv, the last output's answer to cli.err.
cli() {
  local w tmpl script out runs secs peak
  [[ "${SKIP_CLI:-0}" == 1 ]] && return 0
  mkdir -p "$OUT_DIR/queries" "$OUT_DIR/cli-out"
  for w in "$@"; do
    tmpl="$here/queries/$w.fq"
    [[ -f "$tmpl" ]] || continue
    script="$OUT_DIR/queries/$w.fq"
    out="$OUT_DIR/cli-out/$w.arrow"
    sed -e "s#@DATA@#$DATA_DIR#g" -e "s#@N@#$N#g" "$tmpl" > "$script"
    runs=""
    for ((r = 0; r < REPS; r++)); do
      if ! runs+="$(cli_once "$script" "$out")"$'\n'; then
        printf '%s\t%s\tfailed: see cli.err\n' "$w" fusedframe-cli | tee -a "$OUT_DIR/cli.tsv" >&2
        continue 2
      fi
    done
    secs="$(printf '%s' "$runs" | awk 'NF { print $1 }' | sort -g | awk '
      { v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.4f\t%.4f\t%.4f", m, v[1], v[NR] }')"
    peak="$(printf '%s' "$runs" | awk 'NF && $2 > p { p = $2 } END { print p + 0 }')"
    printf '%s\t%s\t%s\t%s\n' "$w" fusedframe-cli "$secs" "$peak" | tee -a "$OUT_DIR/cli.tsv" >&2
    echo "# check $w fusedframe-cli: $("$PYTHON" "$here/answers.py" summarize "$out" 2>&1)" \
      | tee -a "$OUT_DIR/cli.err" >&2
    rm -f "$out"
  done
}

# The workloads engine.rs printed since line $1 of engine.tsv (to run their CLI scripts).
engine_workloads_since() { tail -n "+$(($1 + 1))" "$OUT_DIR/engine.tsv" | grep -v '^peak_rss:' | cut -f1; }

: > "$OUT_DIR/engine.tsv"; : > "$OUT_DIR/engine.err"; : > "$OUT_DIR/cli.tsv"; : > "$OUT_DIR/cli.err"
if [[ "${SKIP_PEERS:-0}" == 1 ]]; then
  src="${PEERS_TSV:-$OUT_DIR/peers.tsv}"
  [[ -f "$src" ]] || { echo "SKIP_PEERS=1 but no $src" >&2; exit 1; }
  [[ "$src" -ef "$OUT_DIR/peers.tsv" ]] || cp "$src" "$OUT_DIR/peers.tsv"
  src_err="$(dirname "$src")/peers.err"
  if [[ -f "$src_err" ]] && ! [[ "$src_err" -ef "$OUT_DIR/peers.err" ]]; then cp "$src_err" "$OUT_DIR/peers.err"; fi
  echo "== peers: reusing $src; fusedframe (cargo bench --bench engine), then its CLI" >&2
  engine "$which"
  mapfile -t ws < <(engine_workloads_since 0)
  cli "${ws[@]}"
else
  # Peers and fusedframe alternate group by group, so both see about the same machine load
  # (on a shared machine it drifts over minutes).
  : > "$OUT_DIR/peers.tsv"; : > "$OUT_DIR/peers.err"
  IFS=, read -ra items <<< "$which"
  for g in "${items[@]}"; do
    echo "== $g: load $(cut -d' ' -f1 /proc/loadavg); peers ($PYTHON benches/peers.py), then fusedframe" >&2
    echo "load at $g: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT_DIR/machine.txt"
    "$PYTHON" "$here/peers.py" "$DATA_DIR" "$N" "$g" \
      2> >(tee -a "$OUT_DIR/peers.err" >&2) | tee -a "$OUT_DIR/peers.tsv" >&2
    before="$(wc -l < "$OUT_DIR/engine.tsv")"
    engine "$g"
    mapfile -t ws < <(engine_workloads_since "$before")
    cli "${ws[@]}"
  done
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT_DIR/machine.txt"

# The table (answers compared before any ratio), as text and as markdown.
"$PYTHON" "$here/report.py" "$OUT_DIR" "$N" "$REPS"

echo >&2
echo "raw outputs and machine info: $OUT_DIR" >&2
echo "unsupported fusedframe workloads:" >&2
grep -P '\tunsupported' "$OUT_DIR/engine.tsv" | cut -f1,3 | sed 's/^/  /' >&2 || echo "  none" >&2
