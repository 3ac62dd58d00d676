"""Expected results of grouped aggregations, windows over groups, head per group and unique
for tests/grouping.rs, computed by DuckDB (SQL aggregates) and Polars (over, head, unique) on
the bundled datasets.

Run from the repository root with a Python that has duckdb and polars:
    python tests/golden/make_grouping_golden.py
It rewrites tests/golden/grouping.json. CI never runs this; the JSON is committed.

Groups are listed in order of first appearance (DuckDB: ORDER BY the group's first row
number; Polars: maintain_order=True), which is fusedframe's order. Where the engines'
conventions differ from fusedframe's NumPy ones the queries say so: a group whose values are
all null has a NULL mean here and NaN in fusedframe (no such group occurs in these cases).
"""
import json
import os

import duckdb
import polars as pl

from golden_json import enc

CARS = "datasets/cars.csv"
STOCKS = "datasets/stocks.csv"
IRIS = "datasets/iris.csv"

con = duckdb.connect()
con.execute(f"CREATE TABLE cars AS SELECT row_number() OVER () - 1 AS rn, * FROM read_csv_auto('{CARS}')")
con.execute(f"CREATE TABLE iris AS SELECT row_number() OVER () - 1 AS rn, * FROM read_csv_auto('{IRIS}')")


def sql(q):
    """Columns of a DuckDB result as lists."""
    t = con.sql(q).fetchall()
    names = [d[0] for d in con.sql(q).description]
    return {n: [row[i] for row in t] for i, n in enumerate(names)}


def cols(d):
    return {k: [v if isinstance(v, str) or v is None else enc(v) for v in vs] for k, vs in d.items()}


cases = {}

# Every aggregate by one string key, groups in order of first appearance.
cases["cars_by_origin"] = cols(sql("""
    SELECT origin,
        count(*) AS n,
        count(horsepower) AS hp_count,
        count(*) - count(horsepower) AS hp_nulls,
        sum(weight_in_lbs) AS weight_sum,
        sum(miles_per_gallon) AS mpg_sum,
        avg(miles_per_gallon) AS mpg_mean,
        min(horsepower) AS hp_min,
        max(horsepower) AS hp_max,
        median(miles_per_gallon) AS mpg_median,
        quantile_cont(acceleration, 0.3) AS accel_q30,
        stddev_samp(weight_in_lbs) AS weight_std1,
        var_pop(acceleration) AS accel_var0,
        corr(weight_in_lbs, acceleration) AS weight_accel_corr,
        count(DISTINCT cylinders) AS cylinder_kinds,
        min(name) AS first_name_alpha,
        max(name) AS last_name_alpha
    FROM cars GROUP BY origin ORDER BY min(rn)
"""))

# Several keys, one an integer, and an aggregate of an expression.
cases["cars_by_origin_cylinders"] = cols(sql("""
    SELECT origin, cylinders,
        count(*) AS n,
        sum(horsepower * weight_in_lbs) AS power_weight,
        max(miles_per_gallon) - min(miles_per_gallon) AS mpg_range
    FROM cars GROUP BY origin, cylinders ORDER BY min(rn)
"""))

# Index of the first minimum / maximum within each group (0-based, rows in input order).
cases["iris_arg"] = cols(sql("""
    WITH r AS (SELECT *, row_number() OVER (PARTITION BY species ORDER BY rn) - 1 AS i FROM iris)
    SELECT species,
        arg_min(i, (petal_length, i)) AS petal_argmin,
        arg_max(i, (sepal_width, -i)) AS sepal_argmax,
        first(sepal_length ORDER BY rn) AS first_sepal,
        last(sepal_length ORDER BY rn) AS last_sepal
    FROM r GROUP BY species ORDER BY min(rn)
"""))

cars = pl.read_csv(CARS, null_values=[""])
stocks = pl.read_csv(STOCKS)

# Windows over groups: an aggregate broadcast back, a rolling mean within each symbol.
w = cars.select(
    (pl.col("weight_in_lbs") - pl.col("weight_in_lbs").mean().over("origin")).alias("weight_dev"),
    pl.col("miles_per_gallon").max().over("origin", "cylinders").alias("mpg_max"),
)
cases["cars_over"] = {k: [enc(v) for v in w[k].to_list()] for k in w.columns}
s = stocks.select(pl.col("price").rolling_mean(3).over("symbol").alias("ma3"))
cases["stocks_rolling_over"] = {"ma3": [enc(v) for v in s["ma3"].to_list()]}

# First rows of each group, and the first row of each distinct key.
h = cars.group_by("origin", maintain_order=True).head(2).select("origin", "name")
cases["cars_head2"] = {k: h[k].to_list() for k in h.columns}
u = cars.unique(subset=["origin", "cylinders"], maintain_order=True, keep="first").select("name")
cases["cars_unique_origin_cylinders"] = {"name": u["name"].to_list()}

path = os.path.join(os.path.dirname(__file__), "grouping.json")
with open(path, "w") as f:
    json.dump(cases, f, indent=1)
    f.write("\n")
print("wrote", path)
