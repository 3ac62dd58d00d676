"""Machine learning at the seed's scale: fusedframe's CLI (a fresh process per run, load
included) against scikit-learn (in process, load included) in the same run, with peak RSS.

    python benches/ml_wide.py DATA_DIR FUSEDFRAME_BIN [WORKLOADS]

DATA_DIR receives, when missing (deterministic: numpy.random.default_rng):
  wide_10000x10000_f32.arrow   the seed's question-14 matrix: 10,000 x 10,000 float32 uniform
                               [0, 1), columns x0..x9999, one Arrow IPC record batch (400 MB)
  blobs_10000000x16.parquet    10M x 16 float64 points around 8 gaussian blobs, 1M-row row
                               groups (1.3 GB)
and reads, when present, ../shared/bench/gen_data.py's blobs_1000000x16.parquet (1M x 16, one
row group; not generated here: run gen_data.py, or point DATA_DIR at its output).
Keep DATA_DIR out of git (e.g. the worktree's bench-data/, which is ignored) and delete it
afterwards.

Workloads (comma list; default all but kmeans_seeds_1Mx16):
  pca_wide_k3        PCA(3), solver auto (randomized for both), of the wide matrix
  kmeans_wide_k8     KMeans(8) (k-means++, one init, seeded) of the wide matrix
  minibatch_10Mx16   MiniBatchKMeans(8) (scikit-learn's defaults, seeded) of the 10M blobs
  pca_1Mx16_k4       PCA(4), solver auto (covariance_eigh for both), of the 1M blobs
  kmeans_1Mx16_k8    KMeans(8) (k-means++, one init, seeded) of the 1M blobs; the two sides'
                     random streams differ, so they may stop in different local minima
  kmeans_seeds_1Mx16 not timed: KMeans(8) of the 1M blobs seeded 0..SEEDS-1 (env SEEDS,
                     default 10) on both sides, one line per seed with iterations and
                     inertia, then how many seeds stopped above the best inertia seen (a
                     k-means++ start that put two centres in one blob)

Each line: workload, system, best-of-3 seconds, peak RSS (MiB; a fresh process running the
workload once: VmHWM for Python, GNU time's %M for the CLI), the CPU seconds (user + system,
all threads) of the best run, and a check of the result (explained variance / inertia). fusedframe's figure is the CLI end to end in a fresh process
(`fusedframe run -e '<script>'`, printing the model's summary); scikit-learn's is load + fit in process.
The machine is shared: say so when quoting these numbers.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

WIDE = "wide_10000x10000_f32.arrow"
BLOBS = "blobs_10000000x16.parquet"
BLOBS_1M = "blobs_1000000x16.parquet"


def gen_wide(path, n=10_000, d=10_000):
    rng = np.random.default_rng(14)
    cols = {}
    for j0 in range(0, d, 1000):
        block = rng.random((n, min(1000, d - j0)), dtype=np.float32)
        for j in range(block.shape[1]):
            cols[f"x{j0 + j}"] = np.ascontiguousarray(block[:, j])
    table = pa.table(cols)
    with ipc.new_file(path, table.schema) as w:
        w.write_table(table, max_chunksize=n)


def gen_blobs(path, n=10_000_000, d=16, k=8):
    rng = np.random.default_rng(16)
    centers = rng.uniform(-10, 10, (k, d))
    schema = pa.schema([(f"f{j}", pa.float64()) for j in range(d)])
    with pq.ParquetWriter(path, schema, compression="snappy") as w:
        for start in range(0, n, 1_000_000):
            m = min(1_000_000, n - start)
            x = centers[rng.integers(0, k, m)] + rng.normal(0, 1.0, (m, d))
            w.write_table(pa.table({f"f{j}": x[:, j] for j in range(d)}, schema=schema))


def load_wide(path):
    t = ipc.open_file(pa.memory_map(path)).read_all()
    return np.column_stack([c.to_numpy() for c in t.columns])


def load_blobs(path):
    # Without pandas (not every environment has it): one C-order float64 matrix, as
    # scikit-learn's check_array would make of a DataFrame.
    t = pq.read_table(path)
    return np.column_stack([c.to_numpy() for c in t.columns])


def sk_pca(path):
    from sklearn.decomposition import PCA
    p = PCA(3, random_state=0).fit(load_wide(path))
    return (f"solver={p._fit_svd_solver} explained_variance={p.explained_variance_.tolist()} "
            f"cumulative ratio={p.explained_variance_ratio_.sum()}")


def sk_kmeans(path):
    from sklearn.cluster import KMeans
    km = KMeans(8, random_state=0).fit(load_wide(path))
    return f"n_iter={km.n_iter_} inertia={km.inertia_:.6e}"


def sk_pca_blobs(path):
    from sklearn.decomposition import PCA
    p = PCA(4, random_state=0).fit(load_blobs(path))
    return f"solver={p._fit_svd_solver} explained_variance={p.explained_variance_.tolist()}"


def sk_kmeans_blobs(path):
    from sklearn.cluster import KMeans
    km = KMeans(8, random_state=0).fit(load_blobs(path))
    return f"n_iter={km.n_iter_} inertia={km.inertia_:.6e}"


def sk_minibatch(path):
    from sklearn.cluster import MiniBatchKMeans
    mb = MiniBatchKMeans(8, random_state=0).fit(load_blobs(path))
    return f"n_steps={mb.n_steps_} inertia={mb.inertia_:.6e}"


WORKLOADS = {
    # name: (data file, scikit-learn function, fusedframe script)
    "pca_wide_k3": (WIDE, sk_pca, 'scan_ipc("{p}").pca(Pca::new(3))'),
    "kmeans_wide_k8": (WIDE, sk_kmeans, 'scan_ipc("{p}").kmeans(KMeans::new(8).seed(0))'),
    "minibatch_10Mx16": (BLOBS, sk_minibatch,
                         'scan_parquet("{p}").mini_batch_kmeans(MiniBatchKMeans::new(8).seed(0))'),
    "pca_1Mx16_k4": (BLOBS_1M, sk_pca_blobs, 'scan_parquet("{p}").pca(Pca::new(4))'),
    "kmeans_1Mx16_k8": (BLOBS_1M, sk_kmeans_blobs,
                        'scan_parquet("{p}").kmeans(KMeans::new(8).seed(0))'),
}


def kmeans_seeds(binary, path, seeds):
    """Iterations and inertia of KMeans(8) per seed on both sides (each side's own random
    stream: seed s is not the same start on the two sides), and how many runs stopped above
    the lowest inertia seen (by more than 1e-6 relative)."""
    from sklearn.cluster import KMeans
    x = load_blobs(path)
    rows = []
    for s in range(seeds):
        km = KMeans(8, random_state=s).fit(x)
        out = subprocess.run([binary, "run", "-e",
                              f'scan_parquet("{path}").kmeans(KMeans::new(8).seed({s}))'],
                             check=True, capture_output=True, text=True).stdout
        first = out.split("\n", 1)[0]
        ff_iter = int(first.split("iterations=")[1].split(",")[0])
        ff_inertia = float(first.split("inertia=")[1].split()[0])
        rows.append((s, km.n_iter_, km.inertia_, ff_iter, ff_inertia))
        print(f"kmeans_seeds\tseed {s}\tsklearn n_iter={km.n_iter_} inertia={km.inertia_:.6e}"
              f"\tfusedframe iterations={ff_iter} inertia={ff_inertia:.6e}", flush=True)
    best = min(min(r[2], r[4]) for r in rows)
    worse = lambda i: sum(r[i] > best * (1 + 1e-6) for r in rows)
    print(f"kmeans_seeds\tabove the best inertia {best:.6e}: sklearn {worse(2)}/{seeds}, "
          f"fusedframe {worse(4)}/{seeds}", flush=True)


def best_of(f, reps=3):
    """Best wall seconds of `reps` runs, that run's CPU seconds (this process, all threads),
    and the last result."""
    ts, r = [], None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        r = f()
        ts.append((time.perf_counter() - t0, time.process_time() - c0))
    best = min(ts)
    return best[0], best[1], r


def python_peak(fn_name, path):
    """Peak RSS of a fresh interpreter running one workload (VmHWM: ru_maxrss survives exec)."""
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
            f"import ml_wide; ml_wide.{fn_name}({path!r})\n"
            "print([int(l.split()[1]) * 1024 for l in open('/proc/self/status') "
            "if l.startswith('VmHWM')][0])")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1])


def cli_run(binary, script, tmp):
    """Wall seconds and peak RSS (bytes) of one fresh CLI process printing the model's summary
    (into a file, so a full pipe never blocks it), and the summary's statistics. The RSS comes
    from GNU time's report on its own child: a child forked from this interpreter would carry
    the interpreter's peak in ru_maxrss across exec."""
    out_path, err_path = os.path.join(tmp, "out.txt"), os.path.join(tmp, "err.txt")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        t0 = time.perf_counter()
        status = subprocess.call(["/usr/bin/time", "-f", "peak_kb=%M cpu=%U+%S", binary, "run",
                                  "-e", script], stdout=out, stderr=err)
        secs = time.perf_counter() - t0
    err_text = open(err_path).read()
    if status != 0:
        raise SystemExit(f"fusedframe failed: {err_text}")
    peak = int(err_text.rsplit("peak_kb=", 1)[1].split()[0]) * 1024
    user, system = err_text.rsplit("cpu=", 1)[1].split()[0].split("+")
    cpu = float(user) + float(system)
    with open(out_path) as f:
        first = f.readline().strip()
    # Drop the feature list (10,000 names) from k-means' summary line.
    if "features=[" in first:
        head, rest = first.split("features=[", 1)
        first = head + rest.split("], ", 1)[-1]
    return secs, peak, first, cpu


def main():
    data, binary = sys.argv[1], os.path.abspath(sys.argv[2])
    which = sys.argv[3].split(",") if len(sys.argv) > 3 else list(WORKLOADS)
    os.makedirs(data, exist_ok=True)
    for name in which:
        if name == "kmeans_seeds_1Mx16":
            path = os.path.join(data, BLOBS_1M)
            if not os.path.exists(path):
                raise SystemExit(f"{path} is missing: run ../shared/bench/gen_data.py")
            kmeans_seeds(binary, path, int(os.environ.get("SEEDS", "10")))
            continue
        file, sk, script = WORKLOADS[name]
        path = os.path.join(data, file)
        if not os.path.exists(path):
            if file == BLOBS_1M:
                raise SystemExit(f"{path} is missing: run ../shared/bench/gen_data.py")
            print(f"# generating {path}", file=sys.stderr, flush=True)
            (gen_wide if file == WIDE else gen_blobs)(path)
        mib = os.path.getsize(path) / 2**20
        t_sk, cpu_sk, check = best_of(lambda: sk(path))
        rss_sk = python_peak(sk.__name__, path)
        print(f"{name}\tsklearn\t{t_sk:.3f}\t{rss_sk / 2**20:.0f} MiB\tcpu {cpu_sk:.2f} s\t{check}",
              flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            runs = [cli_run(binary, script.format(p=path), tmp) for _ in range(3)]
        best = min(runs)
        t_ff, cpu_ff = best[0], best[3]
        rss_ff = max(r[1] for r in runs)
        print(f"{name}\tfusedframe\t{t_ff:.3f}\t{rss_ff / 2**20:.0f} MiB\tcpu {cpu_ff:.2f} s\t"
              f"{runs[0][2]}", flush=True)
        print(f"{name}\tratio\t{t_ff / t_sk:.2f}x\tinput {mib:.0f} MiB on disk, "
              f"fusedframe peak RSS {rss_ff / 2**20 / mib:.2f}x that", flush=True)


if __name__ == "__main__":
    main()
