"""Make the scikit-learn golden files that tests/ml.rs compares fusedframe's models with.

Run from the repository root with numpy, pandas and scikit-learn installed:

    python tests/golden/make_ml_golden.py

The outputs are small JSON files next to this script; CI only reads them (no Python needed).
Datasets come from datasets/*.csv; the blobs set is generated here and stored in its file.
"""

import json
import pathlib

import numpy as np
import pandas as pd
import sklearn
from sklearn.cluster import KMeans, MiniBatchKMeans, kmeans_plusplus
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = pathlib.Path(__file__).resolve().parent


def dump(name, obj):
    obj["sklearn_version"] = sklearn.__version__
    # json writes floats with repr, which round-trips f64 exactly.
    (OUT / name).write_text(json.dumps(obj, indent=1) + "\n")
    print("wrote", name)


def kmeans_case(name, X, k, seed, features, data_in_file):
    init, _ = kmeans_plusplus(X, k, random_state=seed)
    km = KMeans(n_clusters=k, init=init, n_init=1).fit(X)
    obj = {
        "features": features,
        "k": k,
        "init": init.tolist(),
        "labels": km.labels_.tolist(),
        "inertia": float(km.inertia_),
        "centers": km.cluster_centers_.tolist(),
        "n_iter": int(km.n_iter_),
        # Data to predict on: the first rows of X and the labels sklearn predicts for them.
        "predict_labels": km.predict(X[:20]).tolist(),
    }
    if data_in_file:
        obj["data"] = X.tolist()
    dump(name, obj)


def pca_case(name, X, features, n_components, whiten=False, svd_solver="auto", rows=None):
    p = PCA(n_components=n_components, whiten=whiten, svd_solver=svd_solver).fit(X)
    dump(
        name,
        {
            "features": features,
            "n_components": n_components,
            "whiten": whiten,
            "solver": p._fit_svd_solver,
            "components": p.components_.tolist(),
            "explained_variance": p.explained_variance_.tolist(),
            "explained_variance_ratio": p.explained_variance_ratio_.tolist(),
            "singular_values": p.singular_values_.tolist(),
            "mean": p.mean_.tolist(),
            "transform_head": p.transform(X[:10]).tolist(),
            "noise_variance": float(p.noise_variance_),
            "rows": rows,
        },
    )


def linalg_case(name, X, y_names, Y):
    """NumPy's svd, solve and lstsq on a real matrix X (rows are observations)."""
    u, s, vt = np.linalg.svd(X, full_matrices=False)
    # A well-conditioned square system from the same data: the Gram matrix plus the identity.
    a = X.T @ X + np.eye(X.shape[1])
    x_solve = np.linalg.solve(a, X.T @ Y)
    sol, res, rank, sv = np.linalg.lstsq(X, Y, rcond=None)
    k = 3
    dump(
        name,
        {
            "singular_values": s.tolist(),
            "mse_full": float(np.mean((X - u @ np.diag(s) @ vt) ** 2)),
            "mse_k": float(np.mean((X - u[:, :k] @ np.diag(s[:k]) @ vt[:k]) ** 2)),
            "k": k,
            "y_names": y_names,
            "solve": x_solve.tolist(),
            "lstsq_solution": sol.tolist(),
            "lstsq_residuals": res.tolist(),
            "lstsq_rank": int(rank),
        },
    )


def main():
    iris = pd.read_csv(ROOT / "datasets/iris.csv")
    iris_feats = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    kmeans_case("kmeans_iris.json", iris[iris_feats].to_numpy(float), 3, 0, iris_feats, False)

    Xb, _ = make_blobs(n_samples=600, centers=5, n_features=3, cluster_std=1.5, random_state=7)
    kmeans_case("kmeans_blobs.json", Xb, 5, 3, ["x0", "x1", "x2"], True)

    wine = pd.read_csv(ROOT / "datasets/wine.csv")
    wine_feats = [c for c in wine.columns if c != "class"]
    Xw = wine[wine_feats].to_numpy(float)
    pca_case("pca_wine.json", Xw, wine_feats, 13)
    pca_case("pca_wine_var.json", Xw, wine_feats, 0.9999)
    pca_case("pca_wine_whiten.json", Xw, wine_feats, 3, whiten=True)

    bc = pd.read_csv(ROOT / "datasets/breast_cancer.csv")
    bc_feats = [c for c in bc.columns if c != "target"]
    # 569 x 30: auto picks covariance_eigh; the full SVD asked for explicitly.
    pca_case("pca_breast_cancer_full.json", bc[bc_feats].to_numpy(float), bc_feats, 10,
             svd_solver="full")

    digits = pd.read_csv(ROOT / "datasets/digits.csv")
    digit_feats = [c for c in digits.columns if c != "digit"]
    # The first 20 components have well separated eigenvalues; later ones include the
    # zero-variance (always blank) pixels, whose directions are arbitrary in any solver.
    pca_case("pca_digits.json", digits[digit_feats].to_numpy(float), digit_feats, 20)
    # The first 400 images: fewer than 10 rows per feature and at most 500 rows, so auto picks
    # the full SVD.
    pca_case("pca_digits_head_full.json", digits[digit_feats].to_numpy(float)[:400], digit_feats,
             15, whiten=True, rows=400)

    # Linear algebra on the standardized wine chemistry; right-hand sides are two of its
    # columns' squares (so the systems are not trivially exact).
    Xs = (Xw - Xw.mean(axis=0)) / Xw.std(axis=0)
    Y = np.column_stack([Xs[:, 0] ** 2, Xs[:, 5] ** 2])
    linalg_case("linalg_wine.json", Xs, ["alcohol_sq", "total_phenols_sq"], Y)

    # Mini-batch k-means on the blobs: scikit-learn's inertia (its random stream differs from
    # ours, so the test compares inertia with a tolerance, not labels).
    mb = MiniBatchKMeans(n_clusters=5, random_state=0, batch_size=100).fit(Xb)
    best = KMeans(5, n_init=20, random_state=0).fit(Xb)
    dump("minibatch_blobs.json", {"k": 5, "batch_size": 100, "inertia": float(mb.inertia_),
                                  "best_kmeans_inertia": float(best.inertia_)})

    cars = pd.read_csv(ROOT / "datasets/cars.csv")
    feats = ["weight_in_lbs", "horsepower", "displacement", "acceleration"]
    cars = cars.dropna(subset=["miles_per_gallon"] + feats)
    X, y = cars[feats].to_numpy(float), cars["miles_per_gallon"].to_numpy(float)
    lr = LinearRegression().fit(X, y)
    pred = lr.predict(X)
    dump(
        "linear_cars.json",
        {
            "target": "miles_per_gallon",
            "features": feats,
            "n_rows": int(len(y)),
            "coefficients": lr.coef_.tolist(),
            "intercept": float(lr.intercept_),
            "r2": float(lr.score(X, y)),
            "mse": float(np.mean((y - pred) ** 2)),
            "predict_head": pred[:10].tolist(),
        },
    )


if __name__ == "__main__":
    main()
