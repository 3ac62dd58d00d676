#!/usr/bin/env bash
# Run the peer comparison end to end: build fusedframe's engine bench (release), time the peers
# (benches/peers.py: Polars, NumPy, DuckDB, scikit-learn) and fusedframe (benches/engine.rs) on
# the same files, group by group in turn, and print one table: each workload's seconds per
# system and the ratio fusedframe / best peer (below 1 means fusedframe is faster), then peak
# memory.
#
# Usage: benches/run.sh [GROUPS_OR_WORKLOADS]
# Environment (all optional):
#   DATA_DIR   data made by benches/gen_data.py (default /work/bench-data)
#   N          seed table rows (default 10000000)
#   PYTHON     interpreter with numpy, polars, pyarrow, duckdb, scikit-learn (default
#              /work/venv/bin/python, else python3)
#   OUT_DIR    where the raw outputs go (default target/bench-results/<timestamp>)
#   SKIP_PEERS=1        reuse peers.tsv from PEERS_TSV (or OUT_DIR) instead of re-running
#   PEERS_TSV  a saved peers.py output to reuse with SKIP_PEERS=1
# Groups: scan pipeline describe filter_agg ops csv kmeans pca mem (default: all).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
DATA_DIR="${DATA_DIR:-/work/bench-data}"
N="${N:-10000000}"
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
} > "$OUT_DIR/machine.txt"

echo "== building (cargo bench --no-run, release profile)" >&2
(cd "$repo" && cargo bench --bench engine --no-run) >&2

engine() {
  (cd "$repo" && cargo bench -q --bench engine -- "$DATA_DIR" "$N" "$1") \
    2> >(tee -a "$OUT_DIR/engine.err" >&2) | tee -a "$OUT_DIR/engine.tsv" >&2
}
: > "$OUT_DIR/engine.tsv"; : > "$OUT_DIR/engine.err"
if [[ "${SKIP_PEERS:-0}" == 1 ]]; then
  src="${PEERS_TSV:-$OUT_DIR/peers.tsv}"
  [[ -f "$src" ]] || { echo "SKIP_PEERS=1 but no $src" >&2; exit 1; }
  [[ "$src" -ef "$OUT_DIR/peers.tsv" ]] || cp "$src" "$OUT_DIR/peers.tsv"
  echo "== peers: reusing $src; fusedframe (cargo bench --bench engine)" >&2
  engine "$which"
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
    engine "$g"
  done
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT_DIR/machine.txt"

# The table: one row per workload, one column per system, then the ratio.
awk -F'\t' -v n="$N" '
  FNR == 1 { file++ }
  /^#/ || NF < 3 { next }
  $1 ~ /^peak_rss:/ {
    w = substr($1, 10); mem[w, $2] = $3; base[w, $2] = $4; memsys[$2] = 1; memw[w] = 1; next
  }
  {
    if (!($1 in seen)) { seen[$1] = 1; order[++nw] = $1 }
    if (!($2 in sys)) { sys[$2] = 1; sysorder[++ns] = $2 }
    t[$1, $2] = $3
  }
  END {
    # fusedframe last.
    m = 0
    for (i = 1; i <= ns; i++) if (sysorder[i] != "fusedframe") cols[++m] = sysorder[i]
    if ("fusedframe" in sys) cols[++m] = "fusedframe"
    printf "%-22s", "workload"
    for (j = 1; j <= m; j++) printf " %11s", cols[j]
    printf " %13s\n", "ff/best peer"
    for (i = 1; i <= nw; i++) {
      w = order[i]; best = ""
      printf "%-22s", w
      for (j = 1; j <= m; j++) {
        v = ((w, cols[j]) in t) ? t[w, cols[j]] : "-"
        if (v ~ /^unsupported/) v = "unsupp."
        printf " %11s", v
        if (cols[j] != "fusedframe" && v ~ /^[0-9.]+$/ && (best == "" || v + 0 < best + 0)) best = v
      }
      ff = ((w, "fusedframe") in t) ? t[w, "fusedframe"] : ""
      if (ff ~ /^[0-9.]+$/ && best != "" && best + 0 > 0) printf " %12.2fx", ff / best
      else printf " %13s", "-"
      printf "\n"
    }
    for (w in memw) {
      printf "\npeak RSS, %s (columns read: x, z = %.1f MiB):\n", w, n * 16 / 1048576
      for (s in memsys) {
        v = mem[w, s]
        if (v ~ /^[0-9]+$/)
          printf "  %-11s %8.1f MiB (import/startup baseline %6.1f MiB) = %.2fx the column bytes\n", s, v / 1048576, base[w, s] / 1048576, v / (n * 16)
        else printf "  %-11s %s\n", s, v
      }
    }
  }
' "$OUT_DIR/peers.tsv" "$OUT_DIR/engine.tsv" | tee "$OUT_DIR/table.txt"

echo >&2
echo "raw outputs and machine info: $OUT_DIR" >&2
echo "unsupported fusedframe workloads:" >&2
grep -P '\tunsupported' "$OUT_DIR/engine.tsv" | cut -f1,3 | sed 's/^/  /' >&2 || echo "  none" >&2
