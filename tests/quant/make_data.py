#!/usr/bin/env python3
"""Data files of the quant tier (tests/quant/run_quant.sh), from sklearn's digits.

Same split as examples/digits/train.py (load_split: x / 16, 360 held-out
images, stratified, random_state 0), without importing torch:
  data/calib_x.npy      float32 [200,1,8,8]  calibration: the first 200 TRAINING images
  data/calib_mlp_x.npy  float32 [200,64]     the same, flattened for tests/models/mlp_digits
  data/calib_y.npy      int64 [200]          their labels (for "precision": "auto" with max_accuracy_drop)
  data/mlp_test_x.npy   float32 [360,64]     examples/digits/test_x.npy flattened
The labels of the test set are examples/digits/test_y.npy.
Usage: python3 tests/quant/make_data.py   (checks that the split matches the example's)
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = d.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=360, stratify=y, random_state=0)
    ref = np.load(os.path.join(ROOT, "examples", "digits", "test_x.npy"))
    if ref.shape != x_test.shape or not np.array_equal(ref, x_test):
        sys.exit("make_data.py: the split differs from examples/digits/test_x.npy")
    out = os.path.join(HERE, "data")
    os.makedirs(out, exist_ok=True)
    cal = np.ascontiguousarray(x_train[:200], dtype=np.float32)
    np.save(os.path.join(out, "calib_x.npy"), cal)
    np.save(os.path.join(out, "calib_mlp_x.npy"), cal.reshape(200, 64))
    np.save(os.path.join(out, "calib_y.npy"), np.ascontiguousarray(y_train[:200], dtype=np.int64))
    np.save(os.path.join(out, "mlp_test_x.npy"), np.ascontiguousarray(x_test.reshape(360, 64), dtype=np.float32))
    print("wrote calib_x.npy %s, calib_mlp_x.npy, mlp_test_x.npy %s" % (cal.shape, (360, 64)))


if __name__ == "__main__":
    main()
