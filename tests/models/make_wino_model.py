#!/usr/bin/env python3
"""tests/models/winograd_conv and winograd4_conv: 3x3 stride-1 convolutions
that mrtc runs by Winograd, at awkward sizes: batch 2, partial tiles at the
bottom and right, asymmetric pads, a fused residual Add and Sigmoid
epilogue, then a second 3x3 conv on the result.

  winograd_conv   13 x 11 maps, F(2x2,3x3) (runtime/k_wino.h): its
                  mrtc_flags asks for --winograd 2, as F(4x4,3x3) would
                  take these maps by default
  winograd4_conv  35 x 70 maps, F(4x4,3x3) (runtime/k_wino4.h): tile rows of
                  18 tiles, blocks of tiles that start inside a tile row

expected_0.npy is ONNX Runtime's output (tests/tools/ort_run.js):
`python3 tests/models/make_wino_model.py [--f4] [OUTDIR]`.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
args = [a for a in sys.argv[1:] if a != "--f4"]
f4 = "--f4" in sys.argv[1:]
name = "winograd4_conv" if f4 else "winograd_conv"
out = args[0] if args else os.path.join(here, name)
rng = np.random.default_rng(4 if f4 else 3)
N, C, M, H, W = (2, 16, 24, 35, 70) if f4 else (2, 16, 24, 13, 11)
w1 = rng.standard_normal((M, C, 3, 3)).astype(np.float32) * 0.2
b1 = rng.standard_normal(M).astype(np.float32)
w2 = rng.standard_normal((20, M, 3, 3)).astype(np.float32) * 0.2
oh, ow = H, W                          # pads 1: same size
oh2, ow2 = oh + 0 + 2 - 2, ow + 1 + 0 - 2  # pads [top 0, left 1, bottom 2, right 0]
nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1], name="conv1"),
         helper.make_node("Add", ["c", "r"], ["a"], name="res1"),
         helper.make_node("Sigmoid", ["a"], ["s"], name="sig1"),
         helper.make_node("Conv", ["s", "w2"], ["y"], pads=[0, 1, 2, 0], name="conv2")]
g = helper.make_graph(nodes, name,
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N, C, H, W]),
                       helper.make_tensor_value_info("r", TensorProto.FLOAT, [N, M, oh, ow])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [N, 20, oh2, ow2])],
                      [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(w2, "w2")])
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="make_wino4_model.py" if f4 else "make_wino_model.py")
onnx.checker.check_model(model)
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
ins = [os.path.join(out, "input_%d.npy" % k) for k in range(2)]
np.save(ins[0], rng.standard_normal((N, C, H, W)).astype(np.float32))
np.save(ins[1], rng.standard_normal((N, M, oh, ow)).astype(np.float32))
subprocess.run(["node", os.path.join(here, "..", "tools", "ort_run.js"), os.path.join(out, "model.onnx")] + ins + ["-o", out], check=True)
os.replace(os.path.join(out, "output_0.npy"), os.path.join(out, "expected_0.npy"))
print("wrote", out)
