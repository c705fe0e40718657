#!/usr/bin/env python3
"""tests/models/gemm_tails: GEMMs whose last column tile is 1 to 7 wide,
which runtime/k_gemm.h hands to the turned-around 24 x 7 tile on AVX-512
(k_gemm_block_f32), with every epilogue it must apply there:

  a  Conv 1x1 300 -> 40 on 14x14 (N = 196 = 6 x 32 + 4; two K blocks), bias, residual Add, Relu
  b  Conv 1x1 20 -> 50 on 1 x 71 (N = 71 = 2 x 32 + 7), bias, Sigmoid (applied after the tile)
  c  Conv 3x3 pad 1 8 -> 30 on 1 x 65 (implicit GEMM over planes, row by row: N = 65 = 2 x 32 + 1), Tanh
  d  MatMul [70 x 64] x [64 x 38] + per-column Add (N = 38 = 32 + 6), LeakyRelu
  e  Conv 1x1 12 -> 20 on 1 x 83 (N = 83 = 2 x 32 + 16 + 3: a full 16-lane vector, then the tile), bias

Outputs computed by ONNX Runtime (tests/tools/ort_run.js):
`python3 tests/models/make_tail_model.py [OUTDIR]`.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "gemm_tails")
rng = np.random.default_rng(13)
inits, nodes, outs = [], [], []


def const(name, a):
    inits.append(numpy_helper.from_array(np.asarray(a, dtype=np.float32), name))
    return name


def w(shape, fan):
    return rng.standard_normal(shape) / np.sqrt(fan)


inp = [helper.make_tensor_value_info("xa", TensorProto.FLOAT, [1, 300, 14, 14]),
       helper.make_tensor_value_info("ra", TensorProto.FLOAT, [1, 40, 14, 14]),
       helper.make_tensor_value_info("xb", TensorProto.FLOAT, [1, 20, 1, 71]),
       helper.make_tensor_value_info("xc", TensorProto.FLOAT, [1, 8, 1, 65]),
       helper.make_tensor_value_info("xd", TensorProto.FLOAT, [70, 64]),
       helper.make_tensor_value_info("xe", TensorProto.FLOAT, [1, 12, 1, 83])]
nodes += [helper.make_node("Conv", ["xa", const("wa", w((40, 300, 1, 1), 300)), const("ba", w(40, 4))], ["ca"], name="conv_a"),
          helper.make_node("Add", ["ca", "ra"], ["sa"], name="res_a"),
          helper.make_node("Relu", ["sa"], ["ya"], name="relu_a"),
          helper.make_node("Conv", ["xb", const("wb", w((50, 20, 1, 1), 20)), const("bb", w(50, 4))], ["cb"], name="conv_b"),
          helper.make_node("Sigmoid", ["cb"], ["yb"], name="sig_b"),
          helper.make_node("Conv", ["xc", const("wc", w((30, 8, 3, 3), 72))], ["cc"], name="conv_c", pads=[1, 1, 1, 1]),
          helper.make_node("Tanh", ["cc"], ["yc"], name="tanh_c"),
          helper.make_node("MatMul", ["xd", const("wd", w((64, 38), 64))], ["md"], name="mm_d"),
          helper.make_node("Add", ["md", const("bd", w(38, 4))], ["sd"], name="bias_d"),
          helper.make_node("LeakyRelu", ["sd"], ["yd"], name="leaky_d", alpha=0.1),
          helper.make_node("Conv", ["xe", const("we", w((20, 12, 1, 1), 12)), const("be", w(20, 4))], ["ye"], name="conv_e")]
outs = [helper.make_tensor_value_info("ya", TensorProto.FLOAT, [1, 40, 14, 14]),
        helper.make_tensor_value_info("yb", TensorProto.FLOAT, [1, 50, 1, 71]),
        helper.make_tensor_value_info("yc", TensorProto.FLOAT, [1, 30, 1, 65]),
        helper.make_tensor_value_info("yd", TensorProto.FLOAT, [70, 38]),
        helper.make_tensor_value_info("ye", TensorProto.FLOAT, [1, 20, 1, 83])]
g = helper.make_graph(nodes, "gemm_tails", inp, outs, inits)
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_tail_model.py")
onnx.checker.check_model(model)
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
files = []
for k, vi in enumerate(inp):
    shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    f = os.path.join(out, "input_%d.npy" % k)
    np.save(f, rng.standard_normal(shape).astype(np.float32))
    files.append(f)
subprocess.run(["node", os.path.join(here, "..", "tools", "ort_run.js"), os.path.join(out, "model.onnx")] + files + ["-o", out],
               check=True)
for k in range(len(outs)):
    os.replace(os.path.join(out, "output_%d.npy" % k), os.path.join(out, "expected_%d.npy" % k))
print("wrote", out)
