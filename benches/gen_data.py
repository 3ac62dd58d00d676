"""Generate the benchmark datasets (deterministic) as Parquet and CSV.

Copied unchanged in behaviour from the team's shared generator (/work/shared/bench/gen_data.py),
so data made from this file holds exactly the values the recorded results used. A pure-Rust
generator of the same shape lives in benches/gen_seed.rs (`cargo run --release --example
gen_seed`), for machines without Python; its values differ (another random generator) but the
columns, types, sizes and special-value rates are the same.

Usage: python benches/gen_data.py OUT_DIR [N]   (N defaults to 10_000_000)

seed_pipeline: N rows, columns id, ts, x, y, z (float64, ~1% NaN, a few inf in z), label (int64)
blobs: M rows x D float64 features drawn from K gaussian blobs (for k-means / PCA)
"""
import sys, os
import numpy as np, pyarrow as pa, pyarrow.parquet as pq, pyarrow.csv as pacsv

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(42)

x = rng.normal(50, 10, n); y = rng.normal(0, 1, n); z = rng.uniform(-1, 1, n)
for a in (x, y):
    a[rng.random(n) < 0.01] = np.nan
z[rng.random(n) < 0.001] = np.inf
ts = np.datetime64("2020-01-01T00:00:00") + np.arange(n).astype("timedelta64[s]")
t = pa.table({"id": np.arange(n, dtype=np.int64), "ts": pa.array(ts, pa.timestamp("us")),
              "x": x, "y": y, "z": z, "label": rng.integers(0, 10, n)})
pq.write_table(t, f"{out}/seed_{n}.parquet", row_group_size=1 << 20)
pacsv.write_csv(t, f"{out}/seed_{n}.csv")

m, d, k = 1_000_000, 16, 8
centers = rng.uniform(-10, 10, (k, d))
lab = rng.integers(0, k, m)
pts = centers[lab] + rng.normal(0, 1.5, (m, d))
pq.write_table(pa.table({f"f{i}": pts[:, i] for i in range(d)}), f"{out}/blobs_{m}x{d}.parquet")
np.save(f"{out}/blobs_init.npy", pts[rng.choice(m, k, replace=False)])
print("ok")
