#!/usr/bin/env bash
# Joins next to their peers, in one run: db-benchmark's j1-j5 (Polars and DuckDB through
# /work/shared/bench/groupby_join.py) and the 22 TPC-H queries (Polars and DuckDB running
# polars-benchmark's query texts through benches/tpch_peers.py), then fusedframe on the same
# files (benches/joins.rs: each query in a fresh process, best of 3, peak RSS). Prints one table:
# seconds per system, fusedframe / best peer (below 1 is faster), fusedframe's peak RSS.
#
# Usage: benches/joins.sh [NAMES]   (comma list of prefixes, e.g. j1,j5,q01; default all)
# Environment (all optional):
#   JOIN_DIR    join_*_10000000.parquet from `groupby_join.py gen` (default /work/bench-data/join)
#   TPCH_DIR    tpchgen-cli parquet -s 1 output (default /work/bench-data/tpch)
#   POLARS_BENCHMARK_DIR  a checkout of pola-rs/polars-benchmark (default
#               /work/bench-data/polars-benchmark); without it TPC-H peers are skipped
#   PYTHON      interpreter with polars and duckdb (default /work/venv/bin/python)
#   OUT_DIR     raw outputs (default target/bench-results/joins-<timestamp>)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
JOIN_DIR="${JOIN_DIR:-/work/bench-data/join}"
TPCH_DIR="${TPCH_DIR:-/work/bench-data/tpch}"
POLARS_BENCHMARK_DIR="${POLARS_BENCHMARK_DIR:-/work/bench-data/polars-benchmark}"
PYTHON="${PYTHON:-/work/venv/bin/python}"
OUT_DIR="${OUT_DIR:-$repo/target/bench-results/joins-$(date +%Y%m%d-%H%M%S)}"
which="${1:-j,q}"
mkdir -p "$OUT_DIR"
echo "date: $(date -Is) commit: $(git -C "$repo" rev-parse --short HEAD) nproc: $(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT_DIR/machine.txt"

(cd "$repo" && cargo bench --bench joins --no-run) >&2
joins=(j1_small_inner j2_medium_inner j3_medium_left j4_medium_str j5_big_inner)
pick() { local n="$1"; IFS=, read -ra ws <<< "$which"; for w in "${ws[@]}"; do [[ "$n" == "$w"* ]] && return 0; done; return 1; }
: > "$OUT_DIR/peers.tsv"
sel=(); for j in "${joins[@]}"; do pick "$j" && sel+=("$j"); done
if (( ${#sel[@]} )); then
  "$PYTHON" /work/shared/bench/groupby_join.py peers "$JOIN_DIR" 10000000 "$(IFS=,; echo "${sel[*]}")" | tee -a "$OUT_DIR/peers.tsv" >&2
fi
qs=(); for i in $(seq -w 1 22); do pick "q$i" && qs+=("q$i"); done
if (( ${#qs[@]} )) && [[ -d "$POLARS_BENCHMARK_DIR/queries" ]]; then
  "$PYTHON" "$here/tpch_peers.py" "$TPCH_DIR" "$POLARS_BENCHMARK_DIR" "$(IFS=,; echo "${qs[*]}")" | tee -a "$OUT_DIR/peers.tsv" >&2
fi
echo "load before fusedframe: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT_DIR/machine.txt"
(cd "$repo" && cargo bench -q --bench joins -- "$JOIN_DIR" "$TPCH_DIR" "$which") | tee "$OUT_DIR/fusedframe.tsv" >&2
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT_DIR/machine.txt"

"$PYTHON" - "$OUT_DIR" <<'PY'
import sys, collections
d = sys.argv[1]
t = collections.OrderedDict()
rss = {}
for f in ("peers.tsv", "fusedframe.tsv"):
    for line in open(f"{d}/{f}"):
        p = line.rstrip("\n").split("\t")
        if len(p) < 3:
            continue
        t.setdefault(p[0], {})[p[1]] = p[2]
        if p[1] == "fusedframe" and len(p) > 4:
            rss[p[0]] = p[4]
print(f"{'query':18} {'polars':>8} {'duckdb':>8} {'fusedframe':>10} {'ratio':>6} {'ff RSS MB':>9}")
sums = collections.defaultdict(float)
for q, s in t.items():
    def num(k):
        try: return float(s.get(k, ""))
        except ValueError: return None
    pol, duck, ff = num("polars"), num("duckdb"), num("fusedframe")
    peers = [x for x in (pol, duck) if x is not None]
    ratio = f"{ff / min(peers):.2f}" if ff is not None and peers else "-"
    show = lambda x: f"{x:.3f}" if x is not None else "-"
    print(f"{q:18} {show(pol):>8} {show(duck):>8} {show(ff) if ff is not None else s.get('fusedframe', '-')[:10]:>10} {ratio:>6} {rss.get(q, '-'):>9}")
PY
cat "$OUT_DIR/machine.txt"
