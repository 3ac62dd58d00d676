"""Canonical text of Arrow types and values, shared by the corpus generators.

`tests/real_files/canon.rs` computes the same texts from fusedframe's arrays, so a file is read
"the same" when every value's text is equal. The texts are exact (floats as their IEEE bits,
decimals as unscaled integers, temporal values as the integers Arrow stores) and ignore what
readers legitimately differ on: nullability, field names of list items, string/binary/list
offset widths, dictionary encoding, extension types.

Expected values are stored per column as: the first HEAD texts, an FNV-1a 64 hash per CHUNK
rows, and the row count, so the committed files stay small while every value is checked.
"""

import struct

import pyarrow as pa
import pyarrow.compute as pc

HEAD = 8
CHUNK = 256

UNITS = {"s": "s", "ms": "ms", "us": "us", "ns": "ns"}


def canon_type(t):
    """The canonical type text (see the module docstring)."""
    if pa.types.is_dictionary(t):
        return canon_type(t.value_type)
    if isinstance(t, pa.ExtensionType):
        return canon_type(t.storage_type)
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_boolean(t):
        return "bool"
    for name in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]:
        if t == getattr(pa, name)():
            return name
    if pa.types.is_float16(t):
        return "float16"
    if pa.types.is_float32(t):
        return "float32"
    if pa.types.is_float64(t):
        return "float64"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "utf8"
    if pa.types.is_fixed_size_binary(t) and not pa.types.is_decimal(t):
        return f"fixed_size_binary[{t.byte_width}]"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_date32(t):
        return "date32"
    if pa.types.is_date64(t):
        return "date64"
    if pa.types.is_time32(t) or pa.types.is_time64(t):
        return f"time[{t.unit}]"
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.unit},{t.tz}]" if t.tz else f"timestamp[{t.unit}]"
    if pa.types.is_duration(t):
        return f"duration[{t.unit}]"
    if pa.types.is_map(t):
        return f"map<{canon_type(t.key_type)},{canon_type(t.item_type)}>"
    if pa.types.is_fixed_size_list(t):
        return f"fixed_size_list[{t.list_size}]<{canon_type(t.value_type)}>"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return f"list<{canon_type(t.value_type)}>"
    if pa.types.is_struct(t):
        return "struct<" + ",".join(f"{f.name}:{canon_type(f.type)}" for f in t) + ">"
    raise ValueError(f"no canonical form for type {t}")


def _escape(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _float(v):
    if v != v:
        return "NaN"
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def canon_array(arr):
    """The canonical text of every value of `arr` (an Array), in row order."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return canon_array(arr.dictionary_decode())
    if isinstance(t, pa.ExtensionType):
        return canon_array(arr.storage)
    valid = [not v for v in arr.is_null().to_pylist()] if len(arr) else []

    def rows(texts):
        return [x if ok else "null" for x, ok in zip(texts, valid)]

    if pa.types.is_map(t):
        offsets = arr.offsets.to_pylist()
        keys, items = canon_array(arr.keys), canon_array(arr.items)
        base = offsets[0] if offsets else 0
        return rows(
            "<" + ",".join(f"{keys[j - base]}=>{items[j - base]}" for j in range(offsets[i], offsets[i + 1])) + ">"
            for i in range(len(arr))
        )
    if pa.types.is_fixed_size_list(t):
        child = canon_array(arr.flatten() if arr.null_count == 0 else arr.values[arr.offset * t.list_size:])
        n = t.list_size
        return rows("[" + ",".join(child[i * n:(i + 1) * n]) + "]" for i in range(len(arr)))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        offsets = arr.offsets.to_pylist()
        child = canon_array(arr.values)
        return rows("[" + ",".join(child[offsets[i]:offsets[i + 1]]) + "]" for i in range(len(arr)))
    if pa.types.is_struct(t):
        children = [canon_array(c) for c in arr.flatten()]
        names = [f.name for f in t]
        return rows(
            "{" + ",".join(f"{n}={c[i]}" for n, c in zip(names, children)) + "}" for i in range(len(arr))
        )
    if pa.types.is_null(t):
        return ["null"] * len(arr)
    if pa.types.is_decimal(t):
        scale = t.scale
        return rows(str(int(v.scaleb(scale))) if v is not None else "" for v in arr.to_pylist())
    if pa.types.is_temporal(t):
        ints = arr.cast(pa.int64() if arr.type.bit_width == 64 else pa.int32())
        return rows(str(v) if v is not None else "" for v in ints.to_pylist())
    if pa.types.is_floating(t):
        if pa.types.is_float16(t):
            arr = arr.cast(pa.float32())
        return rows(_float(v) if v is not None else "" for v in arr.to_pylist())
    if pa.types.is_boolean(t):
        return rows(("true" if v else "false") for v in arr.to_pylist())
    if pa.types.is_integer(t):
        return rows(str(v) for v in arr.to_pylist())
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return rows(_escape(v) if v is not None else "" for v in arr.to_pylist())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return rows(("0x" + v.hex()) if v is not None else "" for v in arr.to_pylist())
    raise ValueError(f"no canonical form for type {t}")


def fnv1a(texts):
    h = 0xCBF29CE484222325
    for s in texts:
        for b in s.encode("utf-8") + b"\n":
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def column_summary(name, chunked):
    arr = chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
    texts = canon_array(arr)
    return {
        "name": name,
        "type": canon_type(arr.type),
        "rows": len(texts),
        "head": texts[:HEAD],
        "chunks": [fnv1a(texts[i:i + CHUNK]) for i in range(0, len(texts), CHUNK)],
    }


def table_summary(table):
    return {
        "rows": table.num_rows,
        "columns": [column_summary(n, table.column(n)) for n in table.column_names],
    }


def error_text(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
