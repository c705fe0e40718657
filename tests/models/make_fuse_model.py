#!/usr/bin/env python3
"""tests/models/fuse_patterns: one small model with a case for every graph
pass of compiler/pass_*.c (no torch needed; onnx + numpy):

  Conv -> Identity -> BatchNormalization -> Dropout -> Relu    (layout + BN + act)
  Conv (no bias) -> BatchNormalization -> Add(residual) -> Clip  (BN + residual + act)
  Transpose -> Transpose (composed) ; Transpose -> Transpose (cancelled)
  Reshape -> Flatten -> Reshape chain (collapsed)
  MatMul -> Add(per column) -> Tanh  (MatMul + Add = Gemm, + act)
  Gemm (transB) -> BatchNormalization -> LeakyRelu             (BN into Gemm)

expected_0.npy is computed by ONNX Runtime (tests/tools/ort_run.js, found as
that script says): `python3 tests/models/make_fuse_model.py [OUTDIR]`.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "fuse_patterns")
rng = np.random.default_rng(7)
inits, nodes = [], []


def const(name, a):
    inits.append(numpy_helper.from_array(np.asarray(a), name))
    return name


def bn(name, x, c):
    return helper.make_node("BatchNormalization", [x, const(name + "_g", rng.uniform(0.5, 1.5, c).astype(np.float32)),
                                                   const(name + "_b", rng.standard_normal(c).astype(np.float32)),
                                                   const(name + "_m", rng.standard_normal(c).astype(np.float32) * 0.1),
                                                   const(name + "_v", rng.uniform(0.5, 2, c).astype(np.float32))],
                            [name + "_y"], name=name, epsilon=1e-5)


C, H = 8, 6
w1 = const("w1", rng.standard_normal((C, 4, 3, 3)).astype(np.float32) * 0.3)
b1 = const("b1", rng.standard_normal(C).astype(np.float32))
nodes += [helper.make_node("Conv", ["x", w1, b1], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
          helper.make_node("Identity", ["c1"], ["c1i"], name="ident1"),
          bn("bn1", "c1i", C),
          helper.make_node("Dropout", ["bn1_y"], ["d1"], name="drop1"),
          helper.make_node("Relu", ["d1"], ["r1"], name="relu1")]
w2 = const("w2", rng.standard_normal((C, C, 3, 3)).astype(np.float32) * 0.2)
nodes += [helper.make_node("Conv", ["r1", w2], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
          bn("bn2", "c2", C),
          helper.make_node("Add", ["bn2_y", "r1"], ["a2"], name="res2"),
          helper.make_node("Clip", ["a2", const("lo", np.float32(0)), const("hi", np.float32(3))], ["r2"], name="clip2")]
# layout: [1, C, H, H] -> transposes -> reshapes -> [H*H, C]
nodes += [helper.make_node("Transpose", ["r2"], ["t1"], name="tr1", perm=[0, 2, 3, 1]),
          helper.make_node("Transpose", ["t1"], ["t2"], name="tr2", perm=[0, 3, 1, 2]),   # cancels tr1
          helper.make_node("Transpose", ["t2"], ["t3"], name="tr3", perm=[0, 2, 1, 3]),
          helper.make_node("Transpose", ["t3"], ["t4"], name="tr4", perm=[0, 1, 3, 2]),   # composed with tr3
          helper.make_node("Reshape", ["t4", const("s1", np.array([1, H, H * C], np.int64))], ["rs1"], name="rs1"),
          helper.make_node("Flatten", ["rs1"], ["fl1"], name="flat1", axis=2),
          helper.make_node("Reshape", ["fl1", const("s2", np.array([H * H, C], np.int64))], ["rs2"], name="rs2")]
wm = const("wm", rng.standard_normal((C, 16)).astype(np.float32) * 0.4)
bm = const("bm", rng.standard_normal(16).astype(np.float32))
nodes += [helper.make_node("MatMul", ["rs2", wm], ["mm"], name="mm1"),
          helper.make_node("Add", ["mm", bm], ["mma"], name="mm1_bias"),
          helper.make_node("Tanh", ["mma"], ["mmt"], name="tanh1")]
wg = const("wg", rng.standard_normal((10, 16)).astype(np.float32) * 0.4)
bg = const("bg", rng.standard_normal(10).astype(np.float32))
nodes += [helper.make_node("Gemm", ["mmt", wg, bg], ["g"], name="gemm1", transB=1, beta=0.5),
          bn("bn3", "g", 10),
          helper.make_node("LeakyRelu", ["bn3_y"], ["y"], name="leaky3", alpha=0.1)]
graph = helper.make_graph(nodes, "fuse_patterns", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, H, H])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [H * H, 10])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_fuse_model.py")
onnx.checker.check_model(model)
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
np.save(os.path.join(out, "input_0.npy"), rng.standard_normal((1, 4, H, H)).astype(np.float32))
subprocess.run(["node", os.path.join(here, "..", "tools", "ort_run.js"), os.path.join(out, "model.onnx"),
                os.path.join(out, "input_0.npy"), "-o", out], check=True)
os.replace(os.path.join(out, "output_0.npy"), os.path.join(out, "expected_0.npy"))
print("wrote", out)
