"""Time the peer systems (Polars lazy, NumPy, scikit-learn, DuckDB) on the seed workloads.

Extends the team's shared peer script (/work/shared/bench/peers.py) with the workloads
fusedframe's issues name; benches/engine.rs times fusedframe on the same files and workloads
with the same method (best of 3 wall-clock runs) and prints the same lines.

Usage: python benches/peers.py DATA_DIR N [GROUPS_OR_WORKLOADS]
  DATA_DIR holds what benches/gen_data.py wrote (seed_N.parquet, seed_N.csv, blobs_*).
  The optional third argument is a comma list of groups (scan, pipeline, describe, filter_agg,
  ops, csv, kmeans, pca, mem) and/or workload names; by default every group runs.
Output: one line per workload and system, `name<TAB>system<TAB>seconds` (best of 3), and for
the `mem` group `peak_rss:name<TAB>system<TAB>peak_bytes<TAB>baseline_bytes` (the peak RSS of a
fresh interpreter running the workload once, and of one that only imports the library).

Workloads (x, y, z are the seed table's float columns; "in memory" ones load the data first and
time only the operation):
  scan_parquet_xz                  read columns x and z from Parquet into memory (the I/O floor
                                   of filter_agg_parquet)
  pipeline_parquet / pipeline_csv  filter z > 0, fill NaN in x with the mean, min-max scale,
                                   rolling mean 20, arg_sort (the DESIGN.md example pipeline)
  describe_parquet                 mean, median, std of x and y
  filter_agg_parquet / _csv        filter z > 0 then sum, mean, min, max of x
  agg_csv                          mean(x), min(y), max(z)
  fill_nan_mean                    in memory: x with NaN replaced by the NaN-skipping mean
  min_max_scale                    in memory: (x - min) / (max - min), NaN-skipping min/max
  rolling_mean_20                  in memory: rolling mean of x, window 20
  arg_sort_x                       in memory: arg_sort of the 10M-row x column
  argsort_5m                       in memory: arg_sort of 5M uniform floats (splitmix64, below)
  kmeans_* / pca_*                 scikit-learn on the 1M x 16 blobs
"""
import subprocess, sys, time
import numpy as np, polars as pl, pyarrow.parquet as pq, duckdb
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

d, n = sys.argv[1], int(sys.argv[2])
P, C = f"{d}/seed_{n}.parquet", f"{d}/seed_{n}.csv"
B = f"{d}/blobs_1000000x16.parquet"
GROUPS = ["scan", "pipeline", "describe", "filter_agg", "ops", "csv", "kmeans", "pca", "mem"]
which = set(sys.argv[3].split(",")) if len(sys.argv) > 3 else set(GROUPS)

def best(f, reps=3):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); r = f(); ts.append(time.perf_counter() - t0)
    return min(ts), r

def check(r):
    """One line about a result, for comparing answers with engine.rs's `# check` lines."""
    def ends(name, a):
        return f"{name}: {a[0]}, {a[1]}, {a[2]} .. {a[-1]}" if len(a) > 3 else name
    if isinstance(r, pl.DataFrame):
        if r.height == 1:
            return " ".join(f"{k}={v}" for k, v in r.row(0, named=True).items())
        return ends(f"{r.height} rows x {r.width} columns", r.to_series(0).to_list())
    if hasattr(r, "inertia_"):
        return f"n_iter={r.n_iter_} inertia={r.inertia_:.6e}"
    if hasattr(r, "explained_variance_"):
        return f"explained_variance[0]={r.explained_variance_[0]:.6e}"
    if isinstance(r, np.ndarray) and r.ndim == 1:
        return ends(f"{len(r)} rows x 1 columns", r.tolist())
    if isinstance(r, list) and 0 < len(r) <= 4 and all(isinstance(t, tuple) for t in r):
        return " ".join(str(v) for t in r for v in t)
    return type(r).__name__

def rows(name, system, f):
    s, r = best(f)
    print(f"{name}\t{system}\t{s:.3f}", flush=True)
    print(f"# check {name} {system}: {check(r)}", file=sys.stderr, flush=True)

def wanted(group, *names):
    return group in which or any(nm in which for nm in names)

def splitmix_uniform(count, seed=42):
    """`count` floats in [0, 1): splitmix64 of seed + i*golden, top 53 bits. benches/engine.rs
    computes the identical values, so both sides sort the same array."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.arange(count, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53

def pipeline_polars(path, scan):
    x = pl.col("x")
    return (scan(path).filter(pl.col("z") > 0)
            .with_columns(x.fill_nan(x.fill_nan(None).mean()).alias("xf"))
            .with_columns(((pl.col("xf") - pl.col("xf").min()) / (pl.col("xf").max() - pl.col("xf").min())).alias("xs"))
            .with_columns(pl.col("xs").rolling_mean(20).alias("xr"))
            .select(pl.col("xr").arg_sort(nulls_last=True).alias("order"))
            .collect())

def pipeline_numpy(path):
    t = pq.read_table(path, columns=["x", "z"])
    x, z = t["x"].to_numpy(), t["z"].to_numpy()
    x = x[z > 0]
    x = np.where(np.isnan(x), np.nanmean(x), x)
    xs = (x - x.min()) / (x.max() - x.min())
    xr = np.full(len(xs), np.nan)
    xr[19:] = sliding_window_view(xs, 20).mean(axis=1)
    return np.argsort(xr, kind="stable")

def describe_polars(path):
    return pl.scan_parquet(path).select([f(pl.col(c)).alias(f"{c}_{f.__name__}") for c in ("x", "y") for f in (pl.Expr.mean, pl.Expr.median, pl.Expr.std)]).collect()

def describe_numpy(path):
    t = pq.read_table(path, columns=["x", "y"])
    return [(np.nanmean(a), np.nanmedian(a), np.nanstd(a)) for a in (t["x"].to_numpy(), t["y"].to_numpy())]

def filter_agg_polars(lf):
    x = pl.col("x")
    return lf.filter(pl.col("z") > 0).select(x.sum().alias("sum"), x.mean().alias("mean"), x.min().alias("min"), x.max().alias("max")).collect()

FILTER_AGG_SQL = "select sum(x), avg(x), min(x), max(x) from {src} where z > 0"
SCHEMA = {"id": pl.Int64, "ts": pl.Datetime("us"), "x": pl.Float64, "y": pl.Float64, "z": pl.Float64, "label": pl.Int64}
DUCK_COLUMNS = "{'id': 'BIGINT', 'ts': 'TIMESTAMP', 'x': 'DOUBLE', 'y': 'DOUBLE', 'z': 'DOUBLE', 'label': 'BIGINT'}"
csv = lambda p: pl.scan_csv(p, schema=SCHEMA)

if wanted("scan", "scan_parquet_xz"):
    rows("scan_parquet_xz", "polars", lambda: pl.scan_parquet(P).select("x", "z").collect())
    rows("scan_parquet_xz", "numpy", lambda: [c.to_numpy() for c in pq.read_table(P, columns=["x", "z"]).columns])
    rows("scan_parquet_xz", "duckdb", lambda: duckdb.sql(f"select x, z from '{P}'").fetchnumpy())
if wanted("pipeline", "pipeline_parquet"):
    rows("pipeline_parquet", "polars", lambda: pipeline_polars(P, pl.scan_parquet))
    rows("pipeline_parquet", "numpy", lambda: pipeline_numpy(P))
if wanted("describe", "describe_parquet"):
    rows("describe_parquet", "polars", lambda: describe_polars(P))
    rows("describe_parquet", "numpy", lambda: describe_numpy(P))
    rows("describe_parquet", "duckdb", lambda: duckdb.sql(f"select avg(x), median(x), stddev_samp(x), avg(y), median(y), stddev_samp(y) from '{P}' ").fetchall())
if wanted("filter_agg", "filter_agg_parquet"):
    rows("filter_agg_parquet", "polars", lambda: filter_agg_polars(pl.scan_parquet(P)))
    rows("filter_agg_parquet", "duckdb", lambda: duckdb.sql(FILTER_AGG_SQL.format(src=f"'{P}'")).fetchall())
if wanted("ops", "fill_nan_mean", "min_max_scale", "rolling_mean_20", "arg_sort_x", "argsort_5m"):
    X = pl.read_parquet(P, columns=["x"])
    a = X["x"].to_numpy()
    x = pl.col("x")
    if wanted("ops", "fill_nan_mean"):
        rows("fill_nan_mean", "polars", lambda: X.lazy().select(x.fill_nan(x.fill_nan(None).mean())).collect())
        rows("fill_nan_mean", "numpy", lambda: np.where(np.isnan(a), np.nanmean(a), a))
    if wanted("ops", "min_max_scale"):
        rows("min_max_scale", "polars", lambda: X.lazy().select((x - x.min()) / (x.max() - x.min())).collect())
        rows("min_max_scale", "numpy", lambda: (lambda mn, mx: (a - mn) / (mx - mn))(np.nanmin(a), np.nanmax(a)))
    if wanted("ops", "rolling_mean_20"):
        def rolling_numpy():
            r = np.full(len(a), np.nan)
            r[19:] = sliding_window_view(a, 20).mean(axis=1)
            return r
        rows("rolling_mean_20", "polars", lambda: X.lazy().select(x.rolling_mean(20)).collect())
        rows("rolling_mean_20", "numpy", rolling_numpy)
    if wanted("ops", "arg_sort_x"):
        rows("arg_sort_x", "polars", lambda: X.lazy().select(x.arg_sort(nulls_last=True)).collect())
        rows("arg_sort_x", "numpy", lambda: np.argsort(a, kind="stable"))
    if wanted("ops", "argsort_5m"):
        v = splitmix_uniform(5_000_000)
        V = pl.DataFrame({"v": v})
        rows("argsort_5m", "polars", lambda: V.lazy().select(pl.col("v").arg_sort()).collect())
        rows("argsort_5m", "numpy", lambda: np.argsort(v, kind="stable"))
if wanted("csv", "pipeline_csv", "agg_csv", "filter_agg_csv"):
    if wanted("csv", "pipeline_csv"):
        rows("pipeline_csv", "polars", lambda: pipeline_polars(C, csv))
    if wanted("csv", "agg_csv"):
        rows("agg_csv", "duckdb", lambda: duckdb.sql(f"select avg(x), min(y), max(z) from read_csv('{C}')").fetchall())
        rows("agg_csv", "polars", lambda: csv(C).select(pl.col("x").mean(), pl.col("y").min(), pl.col("z").max()).collect())
    if wanted("csv", "filter_agg_csv"):
        rows("filter_agg_csv", "polars", lambda: filter_agg_polars(csv(C)))
        rows("filter_agg_csv", "duckdb", lambda: duckdb.sql(FILTER_AGG_SQL.format(src=f"read_csv('{C}', header=true, columns={DUCK_COLUMNS})")).fetchall())
if wanted("kmeans", "kmeans_1Mx16_k8_20it", "kmeans_1Mx16_k8_auto"):
    X = pq.read_table(B).to_pandas().to_numpy()
    init = np.load(f"{d}/blobs_init.npy")
    rows("kmeans_1Mx16_k8_20it", "sklearn", lambda: KMeans(8, init=init, n_init=1, max_iter=20, tol=0, algorithm="lloyd").fit(X))
    rows("kmeans_1Mx16_k8_auto", "sklearn", lambda: KMeans(8, n_init=1, random_state=0).fit(X))
if wanted("pca", "pca_1Mx16_k4", "pca_1Mx16_k4_eigh"):
    X = pq.read_table(B).to_pandas().to_numpy()
    rows("pca_1Mx16_k4", "sklearn", lambda: PCA(4, svd_solver="full").fit(X))
    rows("pca_1Mx16_k4_eigh", "sklearn", lambda: PCA(4, svd_solver="covariance_eigh").fit(X))
if wanted("mem"):
    # Peak RSS of filter_agg_parquet, each in a fresh interpreter; the baseline only imports.
    def peak(code):
        # VmHWM, not getrusage: ru_maxrss survives exec, so it would report this parent's peak.
        probe = "print([int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
        out = subprocess.run([sys.executable, "-c", f"{code}\n{probe}"], check=True, capture_output=True, text=True)
        return int(out.stdout.split()[-1])
    src = f"'{P}'"
    for system, imp, run in [
        ("polars", "import polars as pl", f"x = pl.col('x'); pl.scan_parquet({src}).filter(pl.col('z') > 0).select(x.sum().alias('sum'), x.mean().alias('mean'), x.min().alias('min'), x.max().alias('max')).collect()"),
        ("duckdb", "import duckdb", f"duckdb.sql({FILTER_AGG_SQL.format(src=src)!r}).fetchall()"),
    ]:
        print(f"peak_rss:filter_agg_parquet\t{system}\t{peak(imp + chr(10) + run)}\t{peak(imp)}", flush=True)
