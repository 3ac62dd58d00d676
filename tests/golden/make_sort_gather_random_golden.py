"""Golden values for tests/sort_gather_random.rs (sorting, indexing, random numbers).

Run from the repository root with NumPy and Polars installed:

    python tests/golden/make_sort_gather_random_golden.py

It writes tests/golden/sort_gather_random.json. JSON has no NaN or infinities, so floats are written as
numbers or the strings "NaN", "inf", "-inf"; null (a missing value) is JSON null.
CI has no Python: the JSON file is committed.
"""

import json
import os
import sys

import numpy as np
import polars as pl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_json import enc, encs  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sort_gather_random.json")
NAN = float("nan")
INF = float("inf")


# Inputs with NaN, null, inf, -0.0, ties; empty, one-row and constant columns.
FLOAT_INPUTS = {
    "mixed": [3.0, None, NAN, -1.0, INF, 3.0, -INF, None, 0.0, -0.0, NAN, 2.5],
    "ties": [2.0, 1.0, 2.0, 1.0, 2.0, 1.0],
    "empty": [],
    "one": [7.5],
    "one_null": [None],
    "constant": [4.0, 4.0, 4.0, 4.0],
    "all_nan": [NAN, NAN, NAN],
    "nan_null": [None, NAN, 1.0, None, NAN, -1.0],
}
INT_INPUTS = {
    "ints": [5, -3, 5, 0, -3, 9, 2**40, -(2**40)],
    "ints_null": [4, None, -1, 4, None, 0],
}


def sort_cases():
    cases = []
    for kind, inputs in (("f64", FLOAT_INPUTS), ("i64", INT_INPUTS)):
        for name, values in inputs.items():
            dtype = pl.Float64 if kind == "f64" else pl.Int64
            s = pl.Series("x", values, dtype=dtype)
            for descending in (False, True):
                for nulls_last in (True, False):
                    idx = s.arg_sort(descending=descending, nulls_last=nulls_last).to_list()
                    vals = s.sort(descending=descending, nulls_last=nulls_last).to_list()
                    if kind == "f64" and None not in values and not descending:
                        # Cross-check Polars against NumPy's stable argsort.
                        assert idx == np.argsort(np.array(values, dtype=float), kind="stable").tolist(), name
                    cases.append(
                        {
                            "name": name,
                            "dtype": kind,
                            "values": encs(values),
                            "descending": descending,
                            "nulls_last": nulls_last,
                            "arg_sort": idx,
                            "sort": encs(vals),
                        }
                    )
    return cases


def top_k_cases():
    cases = []
    for name in ("mixed", "ties", "empty", "one", "constant", "nan_null"):
        values = FLOAT_INPUTS[name]
        s = pl.Series("x", values, dtype=pl.Float64)
        for k in (0, 1, 3, 20):
            # Polars' top_k/bottom_k return the values in order of rank (largest first /
            # smallest first); nulls only when there are fewer than k non-null values.
            top = s.sort(descending=True, nulls_last=True).head(k).to_list()
            bottom = s.sort(descending=False, nulls_last=True).head(k).to_list()
            assert sorted(map(str, top)) == sorted(map(str, s.top_k(k).to_list())), name
            cases.append({"name": name, "values": encs(values), "k": k, "top_k": encs(top), "bottom_k": encs(bottom)})
    return cases


def gather_cases():
    x = [10.0, NAN, None, -4.5, INF]
    arr = np.array([10.0, NAN, NAN, -4.5, INF])
    out = []
    for idx in ([0, 4, 1], [-1, -5, 3, 3], [2], []):
        got = [x[i] for i in idx]
        # NumPy agrees wherever the value is not null.
        assert encs([v for v in got if v is not None]) == encs([arr[i] for i, v in zip(idx, got) if v is not None])
        out.append({"values": encs(x), "indices": idx, "expected": encs(got)})
    return out


def filter_cases():
    x = [1.0, NAN, None, 4.0, -INF]
    out = []
    for mask in ([True, False, True, None, True], [False] * 5, [True] * 5):
        got = [v for v, m in zip(x, mask) if m]
        out.append({"values": encs(x), "mask": mask, "expected": encs(got)})
    return out


def arg_min_max_cases():
    out = []
    for name, values in {
        "ties": [3.0, 1.0, 5.0, 1.0, 5.0],
        "nan": [3.0, NAN, -1.0, NAN],
        "inf": [-INF, 2.0, INF, -INF],
        "one": [2.0],
        "constant": [1.0, 1.0, 1.0],
    }.items():
        a = np.array(values)
        out.append({"name": name, "values": encs(values), "arg_min": int(np.argmin(a)), "arg_max": int(np.argmax(a))})
    return out


def random_cases():
    out = []
    for seed in (0, 1, 42, 2**32 + 7, 2**64 - 1):
        rng = lambda: np.random.default_rng(seed)  # noqa: E731
        n = 10
        case = {
            "seed": str(seed),  # JSON numbers above 2**53 lose precision in some readers
            "n": n,
            "uniform_0_1": rng().random(n).tolist(),
            "uniform_m2_3": rng().uniform(-2.0, 3.0, n).tolist(),
            "integers_0_10": rng().integers(0, 10, n).tolist(),
            "integers_m5_3": rng().integers(-5, 3, n).tolist(),
            "integers_big": [str(v) for v in rng().integers(-(2**62), 2**62, n).tolist()],
            "permutation": rng().permutation(n).tolist(),
            "permutation_1": rng().permutation(1).tolist(),
            "sample_4": rng().permutation(n)[n - 4:].tolist(),
            "sample_replace_15": rng().integers(0, n, 15).tolist(),
            "choice_replace_15": rng().choice(n, 15, replace=True).tolist(),
        }
        # sample_n(k) without replacement stops the shuffle after k steps: the tail is the same.
        assert case["sample_replace_15"] == case["choice_replace_15"]
        out.append(case)
    return out


def main():
    golden = {
        "versions": {"numpy": np.__version__, "polars": pl.__version__},
        "sort": sort_cases(),
        "top_k": top_k_cases(),
        "gather": gather_cases(),
        "filter": filter_cases(),
        "arg_min_max": arg_min_max_cases(),
        "random": random_cases(),
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
