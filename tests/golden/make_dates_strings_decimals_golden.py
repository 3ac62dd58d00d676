"""Golden values for dates and times, strings, is_in, decimals and the per-row window
functions, computed with Polars, DuckDB and Python's exact `decimal` on small fixed inputs.
Writes tests/golden/dates_strings_decimals.json, read by tests/dates_strings_decimals.rs.

Run from the repository root:
    /work/venv/bin/python tests/golden/make_dates_strings_decimals_golden.py
CI has no Python: the JSON is committed.

Where fusedframe's documented semantics differ from Polars 2.x, the expected value comes from
the reference written out below, and the script asserts agreement with the peer where the
semantics coincide:
- date minus date is a millisecond duration (Polars 1.x; Polars 2 gives microseconds): the
  goldens hold whole days, the same either way.
- decimal multiplication keeps every digit (scale s1 + s2, Polars 1.x); Polars 2 rounds the
  product to the larger scale. Expected decimals come from Python's `decimal`, checked
  against DuckDB (exact for + - *).
- cum_min/cum_max propagate NaN (NumPy's minimum.accumulate, this engine's min()); Polars
  skips it. The reference is a loop below, checked against Polars on NaN-free input.
- windows by time are compared on NaN-free values (Polars' rolling median skips NaN).
"""
import datetime as dt
import decimal
import json
import math
import os
import sys

import duckdb
import numpy as np
import polars as pl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_json import enc, encs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAN = float("nan")
US = 1_000_000


def iso(d):
    return None if d is None else d.isoformat()


# ---------------------------------------------------------------- dates
DATES = [
    dt.date(1969, 12, 31), dt.date(1970, 1, 1), dt.date(1970, 1, 5), dt.date(2020, 3, 15),
    dt.date(2021, 8, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(2000, 2, 29),
    dt.date(2000, 11, 30), dt.date(2024, 2, 29), dt.date(2024, 12, 31), dt.date(1994, 1, 1),
    dt.date(1600, 1, 1), dt.date(2399, 12, 31), None, dt.date(2023, 1, 1), dt.date(2022, 1, 2),
    dt.date(1998, 9, 2), dt.date(1995, 6, 17),
]
DATE_SPANS = ["1d", "2d", "3d", "1w", "2w", "1mo", "2mo", "5mo", "1q", "2q", "1y", "3y"]

dates = pl.DataFrame({"d": DATES}, schema={"d": pl.Date})
date_parts = dates.select(
    year=pl.col("d").dt.year(),
    quarter=pl.col("d").dt.quarter(),
    month=pl.col("d").dt.month(),
    day=pl.col("d").dt.day(),
    weekday=pl.col("d").dt.weekday(),
    ordinal_day=pl.col("d").dt.ordinal_day(),
)
date_trunc = {s: [iso(v) for v in dates.select(pl.col("d").dt.truncate(s)).to_series()]
              for s in DATE_SPANS}
REF = dt.date(2000, 1, 1)
days_since = [None if d is None else (d - REF).days for d in DATES]
polars_days = dates.select((pl.col("d") - pl.lit(REF)).dt.total_days()).to_series().to_list()
assert days_since == polars_days

# ---------------------------------------------------------------- datetimes (naive, us)
def us(*a):
    return int((dt.datetime(*a) - dt.datetime(1970, 1, 1)).total_seconds()) * US


DATETIMES = [
    us(2020, 3, 8, 1, 30), us(2020, 3, 8, 3, 30), us(2020, 3, 8, 6, 59, 59), us(2020, 3, 8, 7, 0),
    us(2020, 11, 1, 5, 30), us(2020, 11, 1, 6, 30), us(1969, 12, 31, 23, 59, 59) + 250_000,
    us(1970, 1, 1), us(2024, 2, 29, 23, 59, 59) + 999_999, us(2000, 1, 1, 12, 0), None,
    us(1999, 12, 31, 18, 45, 10), us(2021, 6, 30, 14, 15, 16) + 123_456,
]
DT_SPANS = ["1d", "1w", "2w", "1mo", "1q", "1y", "1h", "6h", "90m", "15m", "1s"]
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"]


def ts_frame(tz):
    s = pl.Series("t", DATETIMES, dtype=pl.Int64).cast(pl.Datetime("us"))
    if tz is not None:
        s = s.dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
    return pl.DataFrame({"t": s})


def parts_and_truncs(tz):
    f = ts_frame(tz)
    parts = f.select(
        year=pl.col("t").dt.year(), quarter=pl.col("t").dt.quarter(),
        month=pl.col("t").dt.month(), day=pl.col("t").dt.day(),
        weekday=pl.col("t").dt.weekday(), ordinal_day=pl.col("t").dt.ordinal_day(),
        hour=pl.col("t").dt.hour(), minute=pl.col("t").dt.minute(),
        second=pl.col("t").dt.second(),
    ).to_dict(as_series=False)
    parts["date"] = [iso(v) for v in f.select(pl.col("t").dt.date()).to_series()]
    truncs = {}
    for s in DT_SPANS:
        col = f.select(pl.col("t").dt.truncate(s).dt.epoch("us")).to_series().to_list()
        truncs[s] = col
    return {"parts": parts, "truncate": truncs}


datetime_golden = {"naive": parts_and_truncs(None)}
for z in ZONES:
    datetime_golden[z] = parts_and_truncs(z)

# ---------------------------------------------------------------- strings
STRINGS = ["PROMO BRUSHED COPPER", "héllo wörld", "", None, "straße", "ECONOMY ANODIZED BRASS",
           "special requests here", "no special  requests", "日本語テキスト", "MAIL", "SHIP",
           "abc", "ABC", "a.b*c", "ÉCOLE", "  spaced  "]
s = pl.DataFrame({"s": STRINGS})
col = pl.col("s").str
string_ops = {
    "starts_with:PROMO": s.select(col.starts_with("PROMO")).to_series().to_list(),
    "ends_with:BRASS": s.select(col.ends_with("BRASS")).to_series().to_list(),
    "contains:special": s.select(col.contains("special", literal=True)).to_series().to_list(),
    "contains:.b*": s.select(col.contains(".b*", literal=True)).to_series().to_list(),
    "contains_regex:special.*requests":
        s.select(col.contains("special.*requests")).to_series().to_list(),
    "contains_regex:^[A-Z]+$": s.select(col.contains("^[A-Z]+$")).to_series().to_list(),
    "contains_regex:(?i)straSSe": s.select(col.contains("(?i)straSSe")).to_series().to_list(),
    "len_chars": s.select(col.len_chars()).to_series().to_list(),
    "len_bytes": s.select(col.len_bytes()).to_series().to_list(),
    "to_uppercase": s.select(col.to_uppercase()).to_series().to_list(),
    "to_lowercase": s.select(col.to_lowercase()).to_series().to_list(),
}
SLICES = [(0, 3), (1, 2), (-3, 2), (-10, 3), (-10, 12), (5, 100), (0, 0)]
for off, ln in SLICES:
    string_ops[f"slice:{off}:{ln}"] = s.select(col.slice(off, ln)).to_series().to_list()

# ---------------------------------------------------------------- is_in
IS_IN = {
    "int": {"values": [1, None, 3, 4, -7], "list": [3, -7, 100],
            "want": pl.Series([1, None, 3, 4, -7]).is_in([3, -7, 100]).to_list()},
    "float": {"values": encs([1.5, NAN, None, 0.0, -0.0, 2.0]), "list": encs([NAN, 0.0, 2.0]),
              "want": pl.Series([1.5, NAN, None, 0.0, -0.0, 2.0]).is_in([NAN, 0.0, 2.0])
              .to_list()},
    "str": {"values": ["MAIL", "SHIP", None, "AIR", ""], "list": ["MAIL", "SHIP", ""],
            "want": pl.Series(["MAIL", "SHIP", None, "AIR", ""]).is_in(["MAIL", "SHIP", ""])
            .to_list()},
    "bool": {"values": [True, False, None], "list": [True],
             "want": pl.Series([True, False, None]).is_in([True]).to_list()},
    "date": {"values": ["1994-01-01", None, "1995-03-15"], "list": ["1995-03-15", "2000-01-01"],
             "want": pl.Series([dt.date(1994, 1, 1), None, dt.date(1995, 3, 15)])
             .is_in([dt.date(1995, 3, 15), dt.date(2000, 1, 1)]).to_list()},
}
# Many values (the hash-set path).
many = list(range(0, 100, 3))
IS_IN["int_many"] = {"values": list(range(50)), "list": many,
                     "want": pl.Series(list(range(50))).is_in(many).to_list()}

# ---------------------------------------------------------------- decimals
D = decimal.Decimal
decimal.getcontext().prec = 80
A = ["12.34", "-0.05", None, "99999999999.99", "0.00", "1.10", "-123.45", "7.77"]
B = ["0.060", "0.100", "0.500", None, "1.234", "-0.001", "0.070", "0.050"]


def dec_list(xs):
    return [None if x is None else D(x) for x in xs]


a, b = dec_list(A), dec_list(B)


def both(f):
    return [None if x is None or y is None else f(x, y) for x, y in zip(a, b)]


def text(xs, scale):
    """Decimals at `scale` digits as text; zero has no sign (an Arrow decimal has none)."""
    q = D(1).scaleb(-scale)
    return [None if x is None else str(abs(x.quantize(q)) if x == 0 else x.quantize(q))
            for x in xs]


dec = {
    "a": A, "b": B,
    "add": text(both(lambda x, y: x + y), 3),
    "sub": text(both(lambda x, y: x - y), 3),
    "mul": text(both(lambda x, y: x * y), 5),
    "one_minus_b": text([None if y is None else 1 - y for y in b], 3),
    "net": text(both(lambda x, y: x * (1 - y)), 5),
    "a_plus_int": text([None if x is None else x + 7 for x in a], 2),
    "div": [None if x is None or y is None or y == 0 else float(x / y) for x, y in zip(a, b)],
    "a_gt_b": [None if x is None or y is None else x > y for x, y in zip(a, b)],
    "b_le_007": [None if y is None else float(y) <= 0.07 for y in b],
    "a_f64": [None if x is None else float(x) for x in a],
    "sum_a": str(sum(x for x in a if x is not None).quantize(D("0.01"))),
    "min_a": str(min(x for x in a if x is not None).quantize(D("0.01"))),
    "max_b": str(max(y for y in b if y is not None).quantize(D("0.001"))),
    "mean_a": float(sum(x for x in a if x is not None) / len([x for x in a if x is not None])),
}
con = duckdb.connect()
con.execute("create table t (a decimal(15,2), b decimal(12,3))")
con.executemany("insert into t values (?, ?)", list(zip(A, B)))
rows = con.execute("select a + b, a - b, a * b, a * (1 - b), 1 - b from t").fetchall()
for k, (key, sc) in enumerate([("add", 3), ("sub", 3), ("mul", 5), ("net", 5),
                               ("one_minus_b", 3)]):
    assert text([r[k] for r in rows], sc) == dec[key], (key, text([r[k] for r in rows], sc), dec[key])
assert str(con.execute("select sum(a) from t").fetchone()[0]) == dec["sum_a"]

# ---------------------------------------------------------------- per-row windows
X = [3.0, 1.0, None, NAN, 1.0, 2.0, -4.5, None, 10.0, 2.0, 0.25]
X_FINITE = [3.0, 1.0, None, 7.0, 1.0, 2.0, -4.5, None, 10.0, 2.0, 0.25]
xs = pl.Series("x", X)
xf = pl.Series("x", X_FINITE)
I = [5, None, 3, 3, -2, 8, None, 1]
ints = pl.Series("i", I)


def cum_ref(vals, op):
    """cum_min/cum_max with NaN propagating and nulls kept null."""
    out, acc = [], None
    for v in vals:
        if v is None:
            out.append(None)
            continue
        if acc is None or (isinstance(acc, float) and math.isnan(acc)):
            acc = v if acc is None else acc
        elif isinstance(v, float) and math.isnan(v):
            acc = v
        else:
            acc = op(acc, v)
        out.append(acc)
    return out


for op, name in [(min, "cum_min"), (max, "cum_max")]:
    polars = getattr(xf, name)().to_list()
    assert cum_ref(X_FINITE, op) == polars, name

windows = {
    "x": encs(X), "i": I,
    "shift_2": encs(xs.shift(2).to_list()), "shift_-1": encs(xs.shift(-1).to_list()),
    "diff_1": encs(xs.diff(1).to_list()), "diff_-2": encs(xs.diff(-2).to_list()),
    "cum_sum": encs(xs.cum_sum().to_list()), "cum_prod": encs(xs.cum_prod().to_list()),
    "cum_min": encs(cum_ref(X, min)), "cum_max": encs(cum_ref(X, max)),
    "cum_count": xs.cum_count().to_list(),
    "i_diff_1": ints.diff(1).to_list(), "i_cum_sum": ints.cum_sum().to_list(),
    "i_cum_max": ints.cum_max().to_list(), "i_shift_-3": ints.shift(-3).to_list(),
    "rank": {},
}
for m in ["average", "min", "max", "dense", "ordinal"]:
    for desc in [False, True]:
        key = f"{m}:{'desc' if desc else 'asc'}"
        windows["rank"][key] = encs(xs.rank(m, descending=desc).to_list())
        windows["rank"]["i:" + key] = encs(ints.rank(m, descending=desc).to_list())
S_RANK = ["b", None, "a", "b", "c", ""]
windows["s"] = S_RANK
windows["s_rank_dense"] = pl.Series(S_RANK).rank("dense").to_list()

# ---------------------------------------------------------------- windows by time
BY_DAYS = [dt.date(2020, 1, 1), dt.date(2020, 1, 2), dt.date(2020, 1, 2), dt.date(2020, 1, 5),
           dt.date(2020, 1, 9), dt.date(2020, 1, 10), dt.date(2020, 1, 31), dt.date(2020, 2, 1),
           dt.date(2020, 2, 29), dt.date(2020, 3, 1), dt.date(2020, 3, 31), dt.date(2020, 4, 1)]
BY_X = [1.0, 2.0, None, 4.0, -1.5, 8.0, 3.25, None, 5.0, 6.0, 0.5, 7.0]
by = pl.DataFrame({"d": BY_DAYS, "x": BY_X})
by_golden = {"d": [iso(d) for d in BY_DAYS], "x": encs(BY_X), "out": {}}
for w in ["1d", "3d", "7d", "2w", "1mo", "36h"]:
    for kind in ["sum", "mean", "min", "max", "std", "var", "median"]:
        for mp in [1, 2]:
            e = getattr(pl.col("x"), f"rolling_{kind}_by")("d", w, min_samples=mp)
            by_golden["out"][f"{kind}:{w}:{mp}"] = encs(by.select(e).to_series().to_list())
# Hourly readings across New York's spring-forward day, a calendar day window in local time.
hours = [us(2020, 3, 7, 0) + h * 3600 * US for h in range(0, 60, 5)]
tzf = pl.DataFrame({"t": pl.Series(hours, dtype=pl.Int64).cast(pl.Datetime("us"))
                    .dt.replace_time_zone("UTC").dt.convert_time_zone("America/New_York"),
                    "x": [float(h) for h in range(len(hours))]})
by_golden["zoned"] = {
    "t_us": hours, "tz": "America/New_York", "x": [float(h) for h in range(len(hours))],
    "sum:1d": encs(tzf.select(pl.col("x").rolling_sum_by("t", "1d")).to_series().to_list()),
    "sum:10h": encs(tzf.select(pl.col("x").rolling_sum_by("t", "10h")).to_series().to_list()),
}

golden = {
    "dates": [iso(d) for d in DATES],
    "date_parts": date_parts.to_dict(as_series=False),
    "date_truncate": date_trunc,
    "days_since_2000": days_since,
    "datetimes_us": DATETIMES,
    "datetime": datetime_golden,
    "strings": STRINGS,
    "string_ops": string_ops,
    "is_in": IS_IN,
    "decimals": dec,
    "windows": windows,
    "rolling_by": by_golden,
    "versions": {"polars": pl.__version__, "duckdb": duckdb.__version__,
                 "numpy": np.__version__},
}
with open(os.path.join(HERE, "dates_strings_decimals.json"), "w") as f:
    json.dump(golden, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote dates_strings_decimals.json")
