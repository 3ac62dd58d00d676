"""Expected values for tests/core.rs, computed independently with NumPy (and Polars for nulls).

Run from the repository root with a Python that has numpy and polars:
    python tests/golden/make_core_golden.py
It rewrites tests/golden/core.json. CI never runs this; the JSON is committed.
"""
import json
import math

import numpy as np
import polars as pl

x = np.array([1.5, -2.0, np.nan, 4.0, 0.0, 7.25, -3.5, np.nan, 2.0, 10.0])
y = np.array([3, -1, 4, 1, -5, 9, 2, 6, 5, 3], dtype=np.int64)
z = np.array([0.5, np.inf, -1.0, -np.inf, 2.0, 3.0, -0.25, 1.0, np.nan, 4.0])
w = [0.5, None, 2.5, None, 1.0, -1.5, None, 3.0, 2.0, 0.0]  # nulls, for Polars cases


def enc(v):
    """JSON-safe encoding: NaN/inf as strings, numpy scalars as Python numbers."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [enc(e) for e in v]
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return f


with np.errstate(all="ignore"):
    cases = {
        # arithmetic and broadcasting
        "x_plus_y": x + y,
        "x_minus_lit": x - 2.5,
        "lit_times_x": 2 * x,
        "x_div_y": x / y,
        "y_div_2": y / 2,
        "y_mod_3": np.fmod(y, 3),  # truncated remainder, as Rust/Arrow
        "neg_x": -x,
        "x_pow_2": x**2,
        "y_pow_half": np.power(y.astype(float), 0.5),
        "abs_x": np.abs(x),
        "sqrt_abs_x": np.sqrt(np.abs(x)),
        "exp_x_10": np.exp(x / 10),
        "ln_abs_x_1": np.log(np.abs(x) + 1),
        "clip_x": np.clip(x, -1, 5),
        "x_minus_nanmean": x - np.nanmean(x),
        "y_minus_mean": y - y.mean(),
        # comparisons and logic (NaN compares false except !=)
        "x_gt_0": x > 0,
        "x_ne_4": x != 4,
        "y_ge_3": y >= 3,
        "x_gt_0_and_y_gt_2": (x > 0) & (y > 2),
        "x_gt_0_or_y_lt_0": (x > 0) | (y < 0),
        "not_y_gt_2": ~(y > 2),
        "is_nan_x": np.isnan(x),
        "is_inf_z": np.isinf(z),
        "is_finite_z": np.isfinite(z),
        "where_x": np.where(x > 0, x, 0.0),
        # aggregates (NumPy semantics: NaN propagates; nan* skip)
        "sum_x": [np.sum(x)],
        "mean_x": [np.mean(x)],
        "median_x": [np.median(x)],
        "min_x": [np.min(x)],
        "max_x": [np.max(x)],
        "nansum_x": [np.nansum(x)],
        "nanmean_x": [np.nanmean(x)],
        "nanmedian_x": [np.nanmedian(x)],
        "nanmin_x": [np.nanmin(x)],
        "nanmax_x": [np.nanmax(x)],
        "nanstd0_x": [np.nanstd(x)],
        "nanstd1_x": [np.nanstd(x, ddof=1)],
        "nanvar0_x": [np.nanvar(x)],
        "std0_x": [np.std(x)],
        "sum_y": [np.sum(y)],
        "mean_y": [np.mean(y)],
        "median_y": [np.median(y)],
        "std0_y": [np.std(y)],
        "std1_y": [np.std(y, ddof=1)],
        "var1_y": [np.var(y, ddof=1)],
        "quantile25_y": [np.quantile(y, 0.25)],
        "quantile90_y": [np.quantile(y, 0.9)],
        "argmin_y": [np.argmin(y)],
        "argmax_y": [np.argmax(y)],
        "argmax_x": [np.argmax(x)],  # first NaN, as NumPy
        "mse": [np.mean((x[~np.isnan(x)] - y[~np.isnan(x)]) ** 2)],
        "range_y": [y.max() - y.min()],
    }

    # plan nodes over the frame (x, y)
    order = np.lexsort((x, -y))  # y descending, then x ascending (stable; NaN last)
    mask = x > 0
    cases["filter_x_gt_0_y"] = y[mask]
    cases["sort_y_desc_x_asc_ids"] = order
    cases["argsort_x"] = np.argsort(x, kind="stable")
    cases["head3_y"] = y[:3]
    cases["tail3_y"] = y[-3:]
    cases["slice_2_4_y"] = y[2:6]
    cases["gather_y"] = y[[9, 0, 3, 3]]

# null handling from Polars
df = pl.DataFrame({"w": w}, schema={"w": pl.Float64})
cases["w_is_null"] = df.select(pl.col("w").is_null())["w"].to_list()
cases["w_fill_null"] = df.select(pl.col("w").fill_null(-9.0))["w"].to_list()
cases["w_count"] = [df.select(pl.col("w").count())["w"][0]]
cases["w_null_count"] = [df.select(pl.col("w").null_count())["w"][0]]
cases["w_sum"] = [df.select(pl.col("w").sum())["w"][0]]
cases["w_mean"] = [df.select(pl.col("w").mean())["w"][0]]
cases["w_max"] = [df.select(pl.col("w").max())["w"][0]]
cases["w_gt_1"] = df.select(pl.col("w") > 1)["w"].to_list()
cases["w_plus_1"] = df.select(pl.col("w") + 1)["w"].to_list()
cases["w_when"] = df.select(pl.when(pl.col("w") > 1).then(pl.lit(1.0)).otherwise(pl.lit(0.0)))["literal"].to_list()

out = {
    "inputs": {"x": enc(x), "y": enc(y), "z": enc(z), "w": enc(w)},
    "cases": {k: enc(list(v)) for k, v in cases.items()},
}
with open("tests/golden/core.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
print(f"wrote {len(cases)} cases")
