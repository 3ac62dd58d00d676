"""TPC-H peers: Polars and DuckDB on polars-benchmark's own query texts, on the same files.

usage: python benches/tpch_peers.py TPCH_DIR POLARS_BENCHMARK_DIR [q01,q02,...]

TPCH_DIR holds <table>.parquet (tpchgen-cli parquet -s 1 --output-dir TPCH_DIR);
POLARS_BENCHMARK_DIR is a checkout of github.com/pola-rs/polars-benchmark, whose
queries/polars/qN.py and queries/duckdb/qN.py are run unchanged: their `utils` module (which
needs that project's settings) is replaced by a small one reading TPCH_DIR, and each query's
`run_query` hands back the query instead of running it. Each query is built and collected in
memory (Polars `.collect()`, DuckDB `.to_arrow_table()`), best of 3. One line per query and system:
`qNN<TAB>system<TAB>seconds<TAB>rows`.
"""
import os, sys, time, types

import duckdb
import polars as pl

tpch, bench = sys.argv[1], sys.argv[2]
which = sys.argv[3].split(",") if len(sys.argv) > 3 else [f"q{i:02}" for i in range(1, 23)]
TABLES = {"line_item": "lineitem", "orders": "orders", "customer": "customer", "region": "region",
          "nation": "nation", "supplier": "supplier", "part": "part", "part_supp": "partsupp"}


def stub(system):
    u = types.ModuleType(f"queries.{system}.utils")
    for fn, table in TABLES.items():
        path = os.path.join(tpch, f"{table}.parquet")
        if system == "polars":
            setattr(u, f"get_{fn}_ds", lambda p=path: pl.scan_parquet(p))
        else:
            setattr(u, f"get_{fn}_ds", lambda p=path: f"'{p}'")
    u.captured = None

    def run_query(n, q):
        # DuckDB's q15 drops the view it queries right after run_query returns, so a DuckDB
        # relation is materialized here (the timing covers building and running either way).
        u.captured = q.to_arrow_table() if system == "duckdb" else q
    u.run_query = run_query
    return u


pkg = types.ModuleType("queries")
pkg.__path__ = []
sys.modules["queries"] = pkg
for system in ("polars", "duckdb"):
    sub = types.ModuleType(f"queries.{system}")
    sub.__path__ = []
    sub.utils = stub(system)
    sys.modules[f"queries.{system}"] = sub
    sys.modules[f"queries.{system}.utils"] = sub.utils


def build(system, n):
    path = os.path.join(bench, "queries", system, f"q{n}.py")
    ns = {"__name__": f"queries.{system}.q{n}"}
    exec(compile(open(path).read(), path, "exec"), ns)
    ns["q"]()
    return sys.modules[f"queries.{system}.utils"].captured


def best(f, reps=3):
    ts, r = [], None
    for _ in range(reps):
        t0 = time.perf_counter(); r = f(); ts.append(time.perf_counter() - t0)
    return min(ts), r


for name in which:
    n = int(name[1:])
    s, r = best(lambda: build("polars", n).collect())
    print(f"{name}\tpolars\t{s:.3f}\t{r.height}", flush=True)
    s, r = best(lambda: build("duckdb", n))
    rows = r.num_rows if hasattr(r, "num_rows") else len(r)
    print(f"{name}\tduckdb\t{s:.3f}\t{rows}", flush=True)
