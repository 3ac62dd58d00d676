"""scikit-learn side of benches/ml.rs: the same deterministic 1M x 16 data, the same workloads.

    python benches/ml_sklearn.py            # prints seconds per workload (best of 3)

The data generator mirrors `gen_data` in benches/ml.rs exactly (splitmix64 of the element index, so both
sides build bit-identical matrices without sharing files).
"""

import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

N, D, K, ITERS = 1_000_000, 16, 8, 20


def gen_data(n, d, seed):
    """Uniform [0, 1) values: element i (row-major) is splitmix64(seed + i) >> 11 scaled by 2^-53.

    Uniform data has no cluster structure, so Lloyd runs its full iteration budget.
    """
    with np.errstate(over="ignore"):
        z = np.arange(n * d, dtype=np.uint64) + np.uint64(seed)
        z = z * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    return np.ascontiguousarray(u.reshape(n, d))


def best_of(f, reps=3):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        r = f()
        ts.append(time.perf_counter() - t)
    return min(ts), r


def main():
    x = gen_data(N, D, 42)
    init = x[:K].copy()
    t, km = best_of(lambda: KMeans(K, init=init, n_init=1, max_iter=ITERS, tol=0.0).fit(x))
    print(f"sklearn kmeans 1M x 16 k=8 {ITERS} iters: {t:.4f} s (n_iter={km.n_iter_}, inertia={km.inertia_:.6e})")
    t, p = best_of(lambda: PCA(4, svd_solver="covariance_eigh").fit(x))
    print(f"sklearn pca 1M x 16 -> 4 covariance_eigh: {t:.4f} s (ev0={p.explained_variance_[0]:.6e})")
    print(f"checksum x.sum()={x.sum():.10e}")


if __name__ == "__main__":
    main()
