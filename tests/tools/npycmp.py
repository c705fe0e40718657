#!/usr/bin/env python3
"""Compare two .npy files: npycmp.py A.npy B.npy [--rtol 1e-3] [--atol 1e-4]

Prints shape/dtype info and max abs / max rel error; exits 0 if
numpy.allclose(A, B, rtol, atol) (B is the reference), 1 otherwise,
2 on usage / load errors.
"""
import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("a")
    ap.add_argument("b", help="reference")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    try:
        a = np.load(args.a, allow_pickle=False)
        b = np.load(args.b, allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        print("npycmp: load error: %s" % e)
        return 2
    if a.shape != b.shape:
        # allow squeezable mismatches only if the element count agrees
        if a.size == b.size:
            print("npycmp: note: shape %s vs %s, comparing flattened" % (a.shape, b.shape))
            a = a.reshape(-1)
            b = b.reshape(-1)
        else:
            print("npycmp: FAIL shape mismatch %s vs %s" % (a.shape, b.shape))
            return 1
    if a.dtype != b.dtype:
        print("npycmp: note: dtype %s vs %s" % (a.dtype, b.dtype))
    if a.dtype == np.bool_ or b.dtype == np.bool_ or (
        np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer)
    ):
        diff = a.astype(np.int64) != b.astype(np.int64)
        n = int(diff.sum())
        print("npycmp: %s elements=%d mismatched=%d" % (a.dtype, a.size, n))
        return 0 if n == 0 else 1
    af = a.astype(np.float64)
    bf = b.astype(np.float64)
    nan_a, nan_b = np.isnan(af), np.isnan(bf)
    if (nan_a != nan_b).any():
        print("npycmp: FAIL NaN pattern differs (%d vs %d NaNs)" % (nan_a.sum(), nan_b.sum()))
        return 1
    absd = np.abs(af - bf)
    absd[nan_a] = 0.0
    if a.size:
        max_abs = float(absd.max())
        denom = np.abs(bf)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(denom > 0, absd / denom, np.where(absd > 0, np.inf, 0.0))
        max_rel = float(rel.max())
        idx = np.unravel_index(int(absd.argmax()), absd.shape) if absd.ndim else ()
    else:
        max_abs = max_rel = 0.0
        idx = ()
    ok = bool(np.allclose(af, bf, rtol=args.rtol, atol=args.atol, equal_nan=True))
    bad = int((absd > args.atol + args.rtol * np.abs(bf)).sum())
    print(
        "npycmp: %s shape=%s max_abs=%.3e max_rel=%.3e (at %s) bad=%d/%d rtol=%g atol=%g -> %s"
        % (a.dtype, tuple(a.shape), max_abs, max_rel, tuple(int(i) for i in idx), bad, a.size,
           args.rtol, args.atol, "OK" if ok else "FAIL")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
