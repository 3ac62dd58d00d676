"""Time the peer systems (Polars lazy, NumPy, scikit-learn, DuckDB) on the seed workloads.

Extends the team's shared peer script (/work/shared/bench/peers.py) with the workloads
fusedframe's issues name; benches/engine.rs times fusedframe on the same files and workloads
with the same method (the median of REPS wall-clock runs, default 5) and prints the same lines.
Each workload computes the same answer on every system (NaN-skipping statistics, sample std)
and prints it on stderr as `# check <workload> <system>: <line>` in benches/answers.py's
canonical format; run.sh compares those lines before it prints a ratio.

Usage: python benches/peers.py DATA_DIR N [GROUPS_OR_WORKLOADS]
  DATA_DIR holds what benches/gen_data.py wrote (seed_N.parquet, seed_N.csv, blobs_*).
  The optional third argument is a comma list of groups (scan, pipeline, describe, filter_agg,
  ops, csv, kmeans, pca, mem) and/or workload names; by default every group runs.
Output: one line per workload and system, `name<TAB>system<TAB>median<TAB>min<TAB>max` (seconds
over REPS runs), and for
the `mem` group `peak_rss:name<TAB>system<TAB>peak_bytes<TAB>baseline_bytes` (the peak RSS of a
fresh interpreter running the workload once, and of one that only imports the library).

Workloads (x, y, z are the seed table's float columns; "in memory" ones load the data first and
time only the operation):
  scan_parquet_xz                  read columns x and z from Parquet into memory (the I/O floor
                                   of filter_agg_parquet)
  pipeline_parquet / pipeline_csv  filter z > 0, fill NaN in x with the mean, min-max scale,
                                   rolling mean 20, arg_sort (the DESIGN.md example pipeline)
  describe_parquet                 mean, median, std (ddof 1) of x and y, skipping NaN
  filter_agg_parquet / _csv        filter z > 0 then sum, mean, min, max of x, skipping NaN
  agg_csv                          mean(x), min(y), max(z), skipping NaN
  fill_nan_mean                    in memory: x with NaN replaced by the NaN-skipping mean
  min_max_scale                    in memory: (x - min) / (max - min), NaN-skipping min/max
  rolling_mean_20                  in memory: rolling mean of x, window 20
  arg_sort_x                       in memory: arg_sort of the 10M-row x column
  argsort_5m                       in memory: arg_sort of 5M uniform floats (splitmix64, below)
  kmeans_* / pca_*                 scikit-learn on the 1M x 16 blobs
"""
import os, statistics, subprocess, sys, time
import numpy as np, polars as pl, pyarrow.parquet as pq, duckdb
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from answers import summarize

d, n = sys.argv[1], int(sys.argv[2])
P, C = f"{d}/seed_{n}.parquet", f"{d}/seed_{n}.csv"
B = f"{d}/blobs_1000000x16.parquet"
GROUPS = ["scan", "pipeline", "describe", "filter_agg", "ops", "csv", "kmeans", "pca", "mem"]
which = set(sys.argv[3].split(",")) if len(sys.argv) > 3 else set(GROUPS)

REPS = int(os.environ.get("REPS", "5"))

def timed(f, reps=REPS):
    """Seconds of `reps` runs of `f` (median, min, max) and the last run's result."""
    ts = []
    for _ in range(max(reps, 1)):
        # The previous result is freed after the clock stops (engine.rs does the same).
        t0 = time.perf_counter(); new = f(); ts.append(time.perf_counter() - t0); r = new
    return (statistics.median(ts), min(ts), max(ts)), r

def rows(name, system, f):
    (med, lo, hi), r = timed(f)
    print(f"{name}\t{system}\t{med:.4f}\t{lo:.4f}\t{hi:.4f}", flush=True)
    print(f"# check {name} {system}: {summarize(r)}", file=sys.stderr, flush=True)

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

# describe: NaN-skipping mean, median and sample std (ddof 1) of x and y on every system.
# Plain aggregates differ: fusedframe's and NumPy's propagate NaN, Polars' median and DuckDB's
# median sort NaN as a number. Polars skips NaN once it is null; DuckDB likewise. DuckDB reads
# Parquet with can_have_nan=true: by default it trusts the files' min/max statistics (which
# leave NaN out, as the format says) to prove a column holds no NaN and folds `isnan(x)` to
# false, keeping the NaN (duckdb/duckdb#25521).
def describe_polars(path):
    return pl.scan_parquet(path).select([f(pl.col(c).fill_nan(None)).alias(f"{c}_{f.__name__}") for c in ("x", "y") for f in (pl.Expr.mean, pl.Expr.median, pl.Expr.std)]).collect()

def describe_numpy(path):
    t = pq.read_table(path, columns=["x", "y"])
    return [tuple(v for a in (t["x"].to_numpy(), t["y"].to_numpy()) for v in (np.nanmean(a), np.nanmedian(a), np.nanstd(a, ddof=1)))]

DESCRIBE_SQL = ("select avg(x), median(x), stddev_samp(x), avg(y), median(y), stddev_samp(y) from "
                "(select case when isnan(x) then null else x end as x, case when isnan(y) then null else y end as y "
                "from read_parquet('{p}', can_have_nan=true))")

# filter_agg: NaN-skipping sum, mean, min, max of x (fusedframe's nan_*). Plain ones differ per
# system: sum and mean give NaN everywhere, Polars' min/max skip NaN, DuckDB's max returns it.
def filter_agg_polars(lf):
    x = pl.col("x").fill_nan(None)
    return lf.filter(pl.col("z") > 0).select(x.sum().alias("sum"), x.mean().alias("mean"), x.min().alias("min"), x.max().alias("max")).collect()

FILTER_AGG_SQL = "select sum(x), avg(x), min(x), max(x) from {src} where z > 0 and not isnan(x)"
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
    rows("describe_parquet", "duckdb", lambda: duckdb.sql(DESCRIBE_SQL.format(p=P)).fetchall())
if wanted("filter_agg", "filter_agg_parquet"):
    rows("filter_agg_parquet", "polars", lambda: filter_agg_polars(pl.scan_parquet(P)))
    rows("filter_agg_parquet", "duckdb", lambda: duckdb.sql(FILTER_AGG_SQL.format(src=f"read_parquet('{P}', can_have_nan=true)")).fetchall())
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
        # NaN-skipping mean(x), min(y), max(z) (z has inf but no NaN). Polars' min/max skip NaN
        # already; DuckDB sorts NaN above every number, so its min skips NaN too.
        rows("agg_csv", "duckdb", lambda: duckdb.sql(f"select avg(x) filter (where not isnan(x)), min(y), max(z) from read_csv('{C}')").fetchall())
        rows("agg_csv", "polars", lambda: csv(C).select(pl.col("x").fill_nan(None).mean(), pl.col("y").min(), pl.col("z").max()).collect())
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
    src = f"read_parquet('{P}', can_have_nan=true)"
    for system, imp, run in [
        ("polars", "import polars as pl", f"x = pl.col('x').fill_nan(None); pl.scan_parquet('{P}').filter(pl.col('z') > 0).select(x.sum().alias('sum'), x.mean().alias('mean'), x.min().alias('min'), x.max().alias('max')).collect()"),
        ("duckdb", "import duckdb", f"duckdb.sql({FILTER_AGG_SQL.format(src=src)!r}).fetchall()"),
    ]:
        print(f"peak_rss:filter_agg_parquet\t{system}\t{peak(imp + chr(10) + run)}\t{peak(imp)}", flush=True)
