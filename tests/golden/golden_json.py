"""Encoding shared by the golden-file generators: JSON has no NaN or infinities, so floats
are written as numbers or the strings "NaN", "inf", "-inf"; a missing value is null.
tests/golden_support/mod.rs reads them back."""
import math


def enc(v):
    """A float or None as JSON."""
    if v is None:
        return None
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def encs(vs):
    return [enc(v) for v in vs]
