"""Answers in one canonical line, and the comparison run.sh makes before it prints a ratio.

Every system's result of a workload is summarized the same way (benches/engine.rs prints the
same format for fusedframe; peers.py uses `summarize` for the peers; report.py uses it for the
Arrow file the CLI wrote), so two answers can be compared token by token:

  one-row result (aggregates)  `1x<C> | <v1> | <v2> ...`            every value
  column result                `<R>x<C> | missing=<m> sum=<s> first=<a>,<b>,<c> last=<l> | ...`
                               per column: NaN-or-null count, sum of the other values, the
                               first three and the last value
  k-means                      `n_iter=<n> inertia=<f>`
  PCA                          `explained_variance=<e1>,<e2>,...`

NaN and null both print as `nan` and count alike as missing: Polars gives null where NumPy and
fusedframe give NaN (the start of a rolling window), and that is representation, not answer.
Numbers agree within a relative tolerance (RTOL, 1e-9: loose enough for another summation
order, tight enough to tell ddof 0 from ddof 1 at 10M rows, 5e-8 apart).

Command line:
  python benches/answers.py summarize FILE.arrow   the canonical line of an Arrow IPC file
                                                   (run.sh, for the CLI's output)
  python benches/answers.py selftest               check the comparison on small cases
"""
import math, re, sys

import numpy as np

RTOL = 1e-9
ATOL = 1e-12
# A seeded random start differs between implementations (k-means++ draws): the fits agree
# when they find the same clustering, so only the inertia is compared, at the stopping
# tolerance's precision.
RULES = {"kmeans_1Mx16_k8_auto": {"ignore": {"n_iter"}, "rtol": 1e-4}}


def num(v):
    """A number's canonical text: shortest round-trip repr; NaN and null as `nan`."""
    if v is None:
        return "nan"
    v = float(v)
    return "nan" if math.isnan(v) else repr(v)


def column_stats(a):
    """`missing=.. sum=.. first=.. last=..` of one column (any numeric array, nulls as NaN)."""
    a = np.asarray(a, dtype=np.float64)
    miss = np.isnan(a)
    s = float(np.sum(a[~miss])) if len(a) else 0.0
    first = ",".join(num(v) for v in a[:3])
    last = num(a[-1]) if len(a) else "nan"
    return f"missing={int(miss.sum())} sum={num(s)} first={first} last={last}"


def columns_line(cols):
    """The canonical line of a list of equally long columns."""
    rows = len(cols[0]) if cols else 0
    if rows == 1:
        cells = [num(np.asarray(c, dtype=np.float64)[0]) for c in cols]
    else:
        cells = [column_stats(c) for c in cols]
    return " | ".join([f"{rows}x{len(cols)}"] + cells)


def as_float_array(a):
    """A NumPy view of any column (Polars, Arrow, masked NumPy) with nulls as NaN."""
    if isinstance(a, np.ma.MaskedArray):
        return np.ma.filled(a.astype(np.float64), np.nan)
    if hasattr(a, "to_numpy") and hasattr(a, "null_count"):  # Arrow arrays and chunked arrays
        import pyarrow.compute as pc
        return np.asarray(pc.cast(a, "float64").to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(a, dtype=np.float64)


def summarize(r):
    """The canonical line of a peer's result (Polars frame, NumPy array(s), DuckDB rows or
    arrays, Arrow table, fitted scikit-learn model)."""
    mod = type(r).__module__
    if hasattr(r, "inertia_"):
        return f"n_iter={r.n_iter_} inertia={num(r.inertia_)}"
    if hasattr(r, "explained_variance_"):
        return "explained_variance=" + ",".join(num(v) for v in r.explained_variance_)
    if mod.startswith("polars"):
        import polars as pl
        return columns_line([s.cast(pl.Float64).to_numpy() for s in r.get_columns()])
    if mod.startswith("pyarrow"):
        return columns_line([as_float_array(c) for c in r.columns])
    if isinstance(r, np.ndarray) and r.ndim == 1:
        return columns_line([r])
    if isinstance(r, dict):  # DuckDB fetchnumpy
        return columns_line([as_float_array(a) for a in r.values()])
    if isinstance(r, list) and r and all(isinstance(t, tuple) for t in r):
        # DuckDB fetchall: one row of aggregates.
        if len(r) != 1:
            return f"{len(r)} rows of tuples (not comparable)"
        return columns_line([[v] for v in r[0]])
    if isinstance(r, list) and r and all(isinstance(a, np.ndarray) for a in r):
        return columns_line(r)
    return f"{type(r).__name__} (not comparable)"


TOKEN = re.compile(r"[^\s|,]+")


def tokens(line):
    """(key, value) pairs of a canonical line; a bare value has key None."""
    out = []
    for t in TOKEN.findall(line):
        k, sep, v = t.partition("=")
        out.append((k, v) if sep else (None, k))
    # `first=a,b,c` continues with bare values: they belong to the key before them.
    key = None
    for i, (k, v) in enumerate(out):
        if k is None and key is not None:
            out[i] = (key, v)
        elif k is not None:
            key = k
    return out


def same_value(a, b, rtol):
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= max(ATOL, rtol * max(abs(x), abs(y)))


def disagreement(workload, a, b):
    """None when two canonical lines agree under the workload's rules, else why not."""
    rule = RULES.get(workload, {})
    ignore, rtol = rule.get("ignore", set()), rule.get("rtol", RTOL)
    ta = [t for t in tokens(a) if t[0] not in ignore]
    tb = [t for t in tokens(b) if t[0] not in ignore]
    if len(ta) != len(tb):
        return "different shapes of answer"
    for i, ((ka, va), (kb, vb)) in enumerate(zip(ta, tb)):
        if ka != kb or not same_value(va, vb, rtol):
            what = f"{ka}=" if ka else f"value {i}: "
            return f"{what}{va} vs {vb}"
    return None


def selftest():
    """The comparison's promises, on small cases (`python benches/answers.py selftest`)."""
    import statistics
    v = np.random.default_rng(0).normal(50, 10, 1_000_000)
    ddof0, ddof1 = np.std(v), np.std(v, ddof=1)
    line = lambda *xs: columns_line([[x] for x in xs])
    # Another summation order agrees; ddof 0 against ddof 1 at 1M rows (5e-7 apart) does not.
    assert disagreement("w", line(np.mean(v), ddof1), line(statistics.fmean(v), ddof1)) is None
    assert disagreement("w", line(ddof1), line(ddof0)) is not None
    # NaN agrees only with NaN (or null); a plain median over NaN is not the NaN-skipping one.
    assert disagreement("w", line(float("nan")), line(None)) is None
    assert disagreement("w", line(float("nan")), line(np.nanmedian(v))) is not None
    # Column summaries: another shape or one more missing value differs.
    a = np.where(np.arange(10) % 4 == 0, np.nan, np.arange(10.0))
    assert columns_line([a]) == "10x1 | missing=3 sum=33.0 first=nan,1.0,2.0 last=9.0"
    assert disagreement("w", columns_line([a]), columns_line([a, a])) is not None
    assert disagreement("w", columns_line([a]), columns_line([np.where(a == 9, np.nan, a)])) is not None
    # The seeded k-means compares its inertia only.
    km = "kmeans_1Mx16_k8_auto"
    assert disagreement(km, "n_iter=2 inertia=100.0", "n_iter=5 inertia=100.00001") is None
    assert disagreement(km, "n_iter=2 inertia=100.0", "n_iter=2 inertia=101.0") is not None
    print("ok")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "selftest":
        selftest()
    elif len(sys.argv) == 3 and sys.argv[1] == "summarize":
        import pyarrow as pa
        with pa.memory_map(sys.argv[2]) as src:
            print(summarize(pa.ipc.open_file(src).read_all()))
    else:
        sys.exit(__doc__)
