"""Files written by pyarrow, Polars and DuckDB with their usual options, and their expected values.

Run from the repository root (see make_expected.py for the venv):

    .venv/bin/python tests/corpus/make_writers.py

Writes tests/corpus/writers/* and tests/corpus/expected/writers.json. Parquet and IPC files are
expected to read as pyarrow reads them back; CSV files as the table they were written from
(integers, floats, text with quotes, commas and newlines, nulls). `tests/real_files.rs`
checks fusedframe against both, and fusedframe's own Parquet decoder against arrow-rs's.
"""

import datetime
import decimal
import json
import os
import sys

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(__file__))
import canon  # noqa: E402

OUT = "tests/corpus/writers"
N = 300


def base_table():
    rng = range(N)
    return pa.table({
        "i64": pa.array([None if i % 17 == 0 else i * 1_000_003 - 7 for i in rng], pa.int64()),
        "i32": pa.array([i % 1000 - 500 for i in rng], pa.int32()),
        "f64": pa.array([None if i % 13 == 0 else (float("nan") if i % 29 == 0 else i / 7) for i in rng]),
        "f32": pa.array([i * 0.25 for i in rng], pa.float32()),
        "s": pa.array([None if i % 11 == 0 else f"v{i % 37}" for i in rng]),
        "b": pa.array([i % 3 == 0 for i in rng]),
        "d": pa.array([datetime.date(2020, 1, 1) + datetime.timedelta(days=i) for i in rng]),
        "ts_tz": pa.array([1_600_000_000_000_000 + i * 3_600_000_001 for i in rng],
                          pa.timestamp("us", tz="Europe/Paris")),
        "ts_ns": pa.array([1_600_000_000_000_000_123 + i for i in rng], pa.timestamp("ns")),
        "dec": pa.array([decimal.Decimal(i * 1234 - 99999) / 100 for i in rng], pa.decimal128(12, 2)),
        "list": pa.array([None if i % 7 == 0 else list(range(i % 4)) for i in rng], pa.list_(pa.int32())),
        "st": pa.array([{"x": i, "y": f"y{i}"} for i in rng]),
        "m": pa.array([[("k", i)] if i % 5 else [] for i in rng], pa.map_(pa.string(), pa.int64())),
    })


def csv_table():
    rng = range(N)
    text = [None if i % 9 == 0 else ["plain", 'with "quotes"', "comma, inside", "two\nlines", ""][i % 5] + str(i)
            for i in rng]
    return pa.table({
        "id": pa.array(list(rng), pa.int64()),
        "x": pa.array([None if i % 7 == 0 else i * 0.5 + 0.25 for i in rng]),
        "t": pa.array(text),
    })


def pyarrow_parquet(t):
    files = {}
    for codec in ["none", "snappy", "gzip", "brotli", "lz4", "zstd"]:
        for dictionary in [True, False]:
            for version in ["1.0", "2.0"]:
                name = f"pyarrow_{codec}_dict{int(dictionary)}_v{version[0]}.parquet"
                pq.write_table(t, f"{OUT}/{name}", compression=codec, use_dictionary=dictionary,
                               data_page_version=version)
                files[name] = "parquet"
    flat = t.select(["i64", "i32", "f64", "f32", "s", "b"])
    pq.write_table(flat, f"{OUT}/pyarrow_delta.parquet", use_dictionary=False,
                   column_encoding={"i64": "DELTA_BINARY_PACKED", "i32": "DELTA_BINARY_PACKED",
                                    "s": "DELTA_LENGTH_BYTE_ARRAY", "f64": "BYTE_STREAM_SPLIT",
                                    "f32": "BYTE_STREAM_SPLIT"})
    pq.write_table(flat.select(["s"]), f"{OUT}/pyarrow_delta_byte_array.parquet", use_dictionary=False,
                   column_encoding={"s": "DELTA_BYTE_ARRAY"})
    pq.write_table(t, f"{OUT}/pyarrow_nostats_tinypages.parquet", write_statistics=False,
                   data_page_size=64, row_group_size=100)
    pq.write_table(t.slice(0, 0), f"{OUT}/pyarrow_empty.parquet")
    for n in ["pyarrow_delta", "pyarrow_delta_byte_array", "pyarrow_nostats_tinypages", "pyarrow_empty"]:
        files[f"{n}.parquet"] = "parquet"
    return files


def pyarrow_ipc(t):
    files = {}
    for codec in [None, "lz4", "zstd"]:
        opts = ipc.IpcWriteOptions(compression=codec)
        tag = codec or "none"
        with ipc.new_file(f"{OUT}/pyarrow_{tag}.arrow", t.schema, options=opts) as w:
            w.write_table(t, max_chunksize=128)
        with ipc.new_stream(f"{OUT}/pyarrow_{tag}.arrows", t.schema, options=opts) as w:
            w.write_table(t, max_chunksize=128)
        files[f"pyarrow_{tag}.arrow"] = files[f"pyarrow_{tag}.arrows"] = "ipc"
    return files


def polars_files(t):
    files = {}
    df = pl.from_arrow(t.drop_columns(["m"]))
    for codec in ["uncompressed", "snappy", "gzip", "brotli", "lz4", "zstd"]:
        name = f"polars_{codec}.parquet"
        df.write_parquet(f"{OUT}/{name}", compression=codec)
        files[name] = "parquet"
    df.write_ipc(f"{OUT}/polars.arrow", compression="zstd")
    df.write_ipc_stream(f"{OUT}/polars.arrows", compression="lz4")
    files["polars.arrow"] = files["polars.arrows"] = "ipc"
    return files


def duckdb_files(t):
    files = {}
    con = duckdb.connect()
    con.register("t", t.drop_columns(["m", "ts_ns"]))
    for codec in ["uncompressed", "snappy", "gzip", "brotli", "lz4", "zstd"]:
        name = f"duckdb_{codec}.parquet"
        con.execute(f"COPY t TO '{OUT}/{name}' (FORMAT parquet, COMPRESSION {codec})")
        files[name] = "parquet"
    return files


def csv_files(t):
    files = {}
    pacsv.write_csv(t, f"{OUT}/pyarrow.csv")
    pl.from_arrow(t).write_csv(f"{OUT}/polars.csv")
    con = duckdb.connect()
    con.register("c", t)
    con.execute(f"COPY c TO '{OUT}/duckdb.csv' (HEADER, DELIMITER ',')")
    for n in ["pyarrow.csv", "polars.csv", "duckdb.csv"]:
        files[n] = "csv"
    return files


def main():
    os.makedirs(OUT, exist_ok=True)
    t = base_table()
    files = {}
    files.update(pyarrow_parquet(t))
    files.update(pyarrow_ipc(t))
    files.update(polars_files(t))
    files.update(duckdb_files(t))
    c = csv_table()
    files.update(csv_files(c))
    out = {}
    for name, kind in sorted(files.items()):
        path = f"{OUT}/{name}"
        if kind == "parquet":
            table = pq.read_table(path)
        elif kind == "ipc":
            with open(path, "rb") as f:
                magic = f.read(6)
            reader = ipc.open_file(path) if magic == b"ARROW1" else ipc.open_stream(path)
            table = reader.read_all()
        else:
            table = c
        out[name] = canon.table_summary(table)
    os.makedirs("tests/corpus/expected", exist_ok=True)
    with open("tests/corpus/expected/writers.json", "w") as f:
        versions = f"pyarrow {pa.__version__}, polars {pl.__version__}, duckdb {duckdb.__version__}"
        json.dump({"writers": versions, "files": out}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
