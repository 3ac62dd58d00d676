"""Golden values for missing values, scaling, rolling windows, horizontal and row/column
functions, describe, drop_nans/drop_nulls, computed with NumPy, pandas, Polars and scikit-learn
on small fixed inputs. Writes tests/golden/fill_scale_window.json, read by
tests/fill_scale_window.rs.

Run from the repository root:  /work/venv/bin/python tests/golden/make_fill_scale_window_golden.py
CI has no Python: the JSON is committed. Values are JSON numbers, null, or the strings
"NaN", "inf", "-inf".

Where the peers disagree with fusedframe's documented semantics the expected value comes from
a NumPy reference written out below, and the script asserts that it agrees with the peer on
every case where their semantics coincide:
- fills: statistics skip NaN *and* null (np.nan* on values with null -> NaN); Forward/Backward
  carry the last/next value that is neither (pandas ffill/bfill with both as missing).
- rolling: NaN in a window gives NaN (Polars' median skips it instead; pandas skips NaN
  everywhere), a var/std window with no more values than ddof is null (Polars).
- scalers: the documented formulas; cross-checked against scikit-learn on finite inputs.
- describe: pandas' describe with NaN as missing, plus Polars' null_count; too few values -> null.
"""
import json
import math
import os
import sys

import numpy as np
import pandas as pd
import polars as pl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_json import enc, encs  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, StandardScaler

NAN, INF = float("nan"), float("inf")
HERE = os.path.dirname(os.path.abspath(__file__))


def close(a, b, tol=1e-12):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is None or y is None:
            if not (x is None and y is None):
                return False
        elif math.isnan(x) or math.isnan(y):
            if not (math.isnan(x) and math.isnan(y)):
                return False
        elif x != y and abs(x - y) > tol * max(1.0, abs(y)):
            return False
    return True


rng = np.random.default_rng(4)
walk = [float(v) for v in np.round(rng.normal(0, 3, 60).cumsum(), 3)]
for i in (5, 6, 31):
    walk[i] = None
for i in (12, 40):
    walk[i] = NAN
walk[50] = INF

INPUTS = {
    "basic": [1.0, NAN, None, 4.0, 2.5, NAN, -3.0, 7.0, None, 10.0],
    "inf": [1.0, INF, 3.0, -INF, 5.0, 2.0, 8.0, 1.0],
    "const": [2.0, 2.0, NAN, None, 2.0],
    "one": [5.0],
    "empty": [],
    "allnan": [NAN, None, NAN],
    "offset": [1e9 + float(v) for v in np.round(rng.normal(0, 1, 40), 6)],
    "walk": walk,
}


cases = []


def missing(x):
    """Values with null as NaN (for NumPy) and the null mask."""
    arr = np.array([NAN if v is None else v for v in x], dtype=float)
    nulls = np.array([v is None for v in x], dtype=bool)
    return arr, nulls


# ---- fills -----------------------------------------------------------------------------
def fill_value(arr, how):
    ok = ~np.isnan(arr)
    if not ok.any() and how not in ("Zero",):
        return None
    return {
        "Mean": lambda: np.nanmean(arr),
        "Median": lambda: np.nanmedian(arr),
        "Min": lambda: np.nanmin(arr),
        "Max": lambda: np.nanmax(arr),
        "Zero": lambda: 0.0,
    }[how]()


for name in ("basic", "inf", "const", "one", "empty", "allnan", "walk"):
    x = INPUTS[name]
    arr, nulls = missing(x)
    isnan = np.isnan(arr) & ~nulls
    for target in ("nan", "null"):
        gap = isnan if target == "nan" else nulls
        for how in ("Mean", "Median", "Min", "Max", "Zero", "Forward", "Backward"):
            if how in ("Forward", "Backward"):
                s = pd.Series(arr)
                filled = (s.ffill() if how == "Forward" else s.bfill()).to_numpy()
                out = []
                for i, v in enumerate(x):
                    if gap[i] and not np.isnan(filled[i]):
                        out.append(filled[i])
                    else:
                        out.append(v)
            else:
                fv = fill_value(arr, how) if len(arr) else None
                out = [fv if (gap[i] and fv is not None) else v for i, v in enumerate(x)]
            cases.append({"op": f"fill_{target}_with", "arg": how, "input": name,
                          "expected": encs(out)})

# Polars agrees wherever NaN is not carried: fill_null forward on a column without NaN.
s = pl.Series([None, 1.0, None, 3.0, None])
assert s.fill_null(strategy="forward").to_list() == [None, 1.0, 1.0, 3.0, 3.0]

# ---- scalers ---------------------------------------------------------------------------
for name in ("basic", "inf", "const", "one", "empty", "allnan", "offset", "walk"):
    x = INPUTS[name]
    arr, nulls = missing(x)
    ok = ~np.isnan(arr)
    with np.errstate(all="ignore"):
        if ok.any():
            mn, mx = np.nanmin(arr), np.nanmax(arr)
            const = mn == mx and np.isfinite(mn)
            mm = np.where(np.isnan(arr), NAN, 0.0) if const else (arr - mn) / (mx - mn)
            mr = np.where(np.isnan(arr), NAN, -1.0) if const else -1.0 + (arr - mn) / (mx - mn) * 2.0
            mean, std = np.nanmean(arr), np.nanstd(arr)
            st = np.where(np.isnan(arr), NAN, 0.0) if const else (arr - mean) / std
        else:
            mm = mr = st = arr
    for op, vals in (("min_max_scale", mm), ("min_max_scale_range", mr), ("standardize", st)):
        out = [None if nulls[i] else vals[i] for i in range(len(x))]
        cases.append({"op": op, "arg": None, "input": name, "expected": encs(out)})
    if ok.sum() > 0 and np.isfinite(arr[ok]).all():
        col = arr.reshape(-1, 1)
        sk_mm = MinMaxScaler().fit_transform(col)[:, 0]
        sk_mr = MinMaxScaler(feature_range=(-1, 1)).fit_transform(col)[:, 0]
        sk_st = StandardScaler().fit_transform(col)[:, 0]
        # scikit-learn scales as x * scale + offset, which loses digits next to a large offset
        # (1e9 here); the documented formula does not, hence the loose tolerance.
        for ours, sk in ((mm, sk_mm), (mr, sk_mr), (st, sk_st)):
            assert close(list(ours), list(sk), 1e-6), (name, ours, sk)

# ---- rolling ---------------------------------------------------------------------------
def rolling_ref(x, kind, w, mp, center, ddof=1, weights=None):
    n = len(x)
    shift = (w - 1) // 2 if center else 0
    out = []
    for i in range(n):
        end = i + shift + 1
        pos = [(p, j) for j, p in enumerate(range(end - w, end)) if 0 <= p < n and x[p] is not None]
        vals = np.array([x[p] for p, _ in pos], dtype=float)
        if len(vals) < mp:
            out.append(None)
            continue
        if weights is not None:
            wt = np.array([weights[j] for _, j in pos])
            with np.errstate(all="ignore"):
                m = (vals * wt).sum() / wt.sum()
                r = {"sum": (vals * wt).sum(), "mean": m,
                     "var": (wt * (vals - m) ** 2).sum() / wt.sum()}
                r["std"] = math.sqrt(r["var"]) if not math.isnan(r["var"]) else NAN
            out.append(r[kind])
            continue
        if kind in ("var", "std") and len(vals) <= ddof:
            out.append(None)
            continue
        if np.isnan(vals).any():
            out.append(NAN)
            continue
        with np.errstate(all="ignore"):
            if kind in ("var", "std"):
                if not np.isfinite(vals).all():
                    out.append(NAN)
                    continue
                v = np.var(vals, ddof=ddof)
                out.append(v if kind == "var" else math.sqrt(v))
            else:
                out.append({"sum": np.sum, "mean": np.mean, "min": np.min, "max": np.max,
                            "median": np.median}[kind](vals))
    return out


def rolling_polars(x, kind, w, mp, center, ddof=1, weights=None):
    s = pl.Series("x", x, dtype=pl.Float64)
    kw = dict(window_size=w, min_samples=mp, center=center)
    if weights is not None:
        kw["weights"] = weights
    if kind in ("var", "std"):
        kw["ddof"] = ddof
    return getattr(s, f"rolling_{kind}")(**kw).to_list()


KINDS = ("sum", "mean", "min", "max", "var", "std", "median")
SETTINGS = [(3, None, False), (4, 2, True), (1, None, False), (5, 1, False), (3, 1, True), (70, 1, False)]
for name in ("basic", "inf", "const", "one", "empty", "allnan", "offset", "walk"):
    x = INPUTS[name]
    for kind in KINDS:
        for (w, mp, center) in SETTINGS:
            mpv = w if mp is None else mp
            ref = rolling_ref(x, kind, w, mpv, center)
            pol = rolling_polars(x, kind, w, mpv, center)
            has_nan = any(v is not None and math.isnan(v) for v in x)
            # Polars' median skips NaN and its var/std of an inf window differ in detail;
            # elsewhere the reference must agree with Polars.
            # Polars' running variance loses ~7 digits next to the 1e9 offset; the NumPy
            # reference (two-pass per window) does not.
            tol = 1e-5 if name == "offset" else 1e-9
            if not (kind == "median" and has_nan):
                assert close(ref, pol, tol), (name, kind, w, mp, center, ref, pol)
            cases.append({"op": f"rolling_{kind}", "arg": {"window": w, "min_periods": mp,
                          "center": center}, "input": name, "expected": encs(ref)})
    for kind in ("var", "std"):
        ref = rolling_ref(x, kind, 4, 2, False, ddof=0)
        cases.append({"op": f"rolling_{kind}", "arg": {"window": 4, "min_periods": 2,
                      "center": False, "ddof": 0}, "input": name, "expected": encs(ref)})
    for kind in ("sum", "mean", "var", "std"):
        for (wts, mp, center) in (([1.0, 2.0, 3.0], 3, False), ([0.5, 1.0, 0.25, 2.0], 1, True)):
            ref = rolling_ref(x, kind, len(wts), mp, center, weights=wts)
            # Polars does not take weights with nulls, and its weighted variance computes
            # E[x²] - E[x]², which is all rounding next to the 1e9 offset.
            if all(v is not None for v in x) and not (name == "offset" and kind in ("var", "std")):
                pol = rolling_polars(x, kind, len(wts), mp, center, weights=wts)
                assert close(ref, pol, 1e-9), ("weighted", name, kind, ref, pol)
            cases.append({"op": f"rolling_{kind}", "arg": {"window": len(wts), "min_periods": mp,
                          "center": center, "weights": wts}, "input": name,
                          "expected": encs(ref)})

# ---- horizontal ------------------------------------------------------------------------
H = {
    "a": [1.0, None, NAN, None, 2.0, INF, NAN, -1.5],
    "b": [2.0, 3.0, 1.0, None, NAN, -INF, None, 4.0],
    "i": [1, 2, 3, None, 5, 6, None, -7],
    "j": [10, None, -3, None, 0, 6, None, 7],
}
hdf = pl.DataFrame(H, schema={"a": pl.Float64, "b": pl.Float64, "i": pl.Int64, "j": pl.Int64})
horizontal = []
for cols in (["a", "b"], ["a", "b", "i"], ["i", "j"]):
    r = hdf.select(sum=pl.sum_horizontal(cols), mean=pl.mean_horizontal(cols),
                   min=pl.min_horizontal(cols), max=pl.max_horizontal(cols))
    horizontal.append({"columns": cols, **{k: encs(r[k].to_list()) for k in r.columns},
                       "dtypes": {k: str(r[k].dtype) for k in r.columns}})
rows = np.array([[NAN if v is None else v for v in H[c]] for c in ("a", "b")]).T
with np.errstate(all="ignore"):
    norm = np.apply_along_axis(lambda r: math.sqrt(r[0] * r[0] + r[1] * r[1]), 1, rows)
map_rows = [None if (H["a"][k] is None or H["b"][k] is None) else norm[k] for k in range(len(norm))]

# ---- describe --------------------------------------------------------------------------
describe = {}
for name in ("basic", "inf", "const", "one", "empty", "allnan", "offset", "walk"):
    x = INPUTS[name]
    arr, nulls = missing(x)
    d = pd.Series(arr, dtype=float).describe()
    cnt = int(d["count"])
    stats = [float(cnt), float(nulls.sum())]
    for k in ("mean", "std", "min", "25%", "50%", "75%", "max"):
        v = d[k]
        if cnt == 0 or (k == "std" and cnt < 2):
            v = None
        stats.append(v)
    describe[name] = encs(stats)

# ---- drop_nans / drop_nulls -------------------------------------------------------------
D = {"a": [1.0, None, NAN, 4.0, NAN, 6.0], "b": [NAN, 2.0, None, None, 5.0, 6.0],
     "s": ["x", "y", None, "z", "w", "v"], "idx": [0, 1, 2, 3, 4, 5]}
ddf = pl.DataFrame(D)
drops = {
    "drop_nans": ddf.drop_nans(subset=["a", "b"])["idx"].to_list(),
    "drop_nulls": ddf.drop_nulls()["idx"].to_list(),
    "drop_nans_in_a": ddf.drop_nans(subset=["a"])["idx"].to_list(),
    "drop_nulls_in_a_b": ddf.drop_nulls(subset=["a", "b"])["idx"].to_list(),
}

out = {
    "inputs": {k: encs(v) for k, v in INPUTS.items()},
    "cases": cases,
    "horizontal_input": {k: encs(v) for k, v in H.items()},
    "horizontal": horizontal,
    "map_rows_norm_ab": encs(map_rows),
    "describe": describe,
    "drop_input": {"a": encs(D["a"]), "b": encs(D["b"]), "s": D["s"]},
    "drops": drops,
}
path = os.path.join(HERE, "fill_scale_window.json")
with open(path, "w") as f:
    json.dump(out, f, indent=None, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path}: {len(cases)} cases")
