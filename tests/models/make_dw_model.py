#!/usr/bin/env python3
"""tests/models/dw_paths: the depthwise kernels of runtime/k_dwconv.h on
each of their paths (AVX-512: 3x3 stride 1 with pads 1 read straight from
the input, 3x3 stride 2 de-interleaved in registers, two output rows per
vector when OW <= 7, the phase-plane path for the rest), with the fused
epilogues they take (bias, Clip, Relu, residual Add, Sigmoid, channel
multiplier 2), plus the register MaxPool 3x3/2 of runtime/k_pool.h with a
left pad of 2.  Outputs computed by ONNX Runtime (tests/tools/ort_run.js):
`python3 tests/models/make_dw_model.py [OUTDIR]`.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "dw_paths")
rng = np.random.default_rng(7)
N, C, H, W = 1, 8, 29, 31
inits, nodes = [], []


def const(name, a):
    inits.append(numpy_helper.from_array(np.asarray(a), name))
    return name


def dw(name, x, cin, mult, stride, pads, act=None, res=None):
    w = const(name + "_w", (rng.standard_normal((cin * mult, 1, 3, 3)) * 0.4).astype(np.float32))
    b = const(name + "_b", (rng.standard_normal(cin * mult) * 0.1).astype(np.float32))
    y = name + "_conv"
    nodes.append(helper.make_node("Conv", [x, w, b], [y], kernel_shape=[3, 3], strides=[stride, stride], pads=pads,
                                  group=cin, name=name))
    if res:
        nodes.append(helper.make_node("Add", [y, res], [name + "_add"], name=name + "_res"))
        y = name + "_add"
    if act == "clip":
        nodes.append(helper.make_node("Clip", [y, const(name + "_lo", np.float32(0)), const(name + "_hi", np.float32(6))],
                                      [name + "_out"], name=name + "_clip"))
    elif act:
        nodes.append(helper.make_node(act, [y], [name + "_out"], name=name + "_act"))
    else:
        nodes.append(helper.make_node("Identity", [y], [name + "_out"], name=name + "_id"))
    return name + "_out"


outs = [dw("s1_clip", "x", C, 1, 1, [1, 1, 1, 1], "clip"),
        dw("s2_relu", "x", C, 1, 2, [1, 1, 1, 1], "Relu"),
        dw("s1_res", "x", C, 1, 1, [1, 1, 1, 1], None, res="x"),
        dw("s2_mult2", "x", C, 2, 2, [0, 0, 0, 0]),
        dw("s1_pad0_sigmoid", "x", C, 1, 1, [0, 0, 0, 0], "Sigmoid")]
nodes.append(helper.make_node("Slice", ["x", const("st", np.array([0, 0], np.int64)), const("en", np.array([13, 13], np.int64)),
                                        const("ax", np.array([2, 3], np.int64))], ["x13"], name="crop13"))
outs.append(dw("s2_small", "x13", C, 1, 2, [1, 1, 1, 1], "clip"))
nodes.append(helper.make_node("MaxPool", ["x"], ["mp_out"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 2, 0, 0], name="mp_left2"))
outs.append("mp_out")
shapes = [[N, C, 29, 31], [N, C, 15, 16], [N, C, 29, 31], [N, 2 * C, 14, 15], [N, C, 27, 29], [N, C, 7, 7], [N, C, 14, 16]]
g = helper.make_graph(nodes, "dw_paths", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N, C, H, W])],
                      [helper.make_tensor_value_info(o, TensorProto.FLOAT, s) for o, s in zip(outs, shapes)], inits)
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_dw_model.py")
model.ir_version = 8
onnx.checker.check_model(model)
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
np.save(os.path.join(out, "input_0.npy"), rng.standard_normal((N, C, H, W)).astype(np.float32))
subprocess.run(["node", os.path.join(here, "..", "tools", "ort_run.js"), os.path.join(out, "model.onnx"),
                os.path.join(out, "input_0.npy"), "-o", out], check=True)
for k in range(len(outs)):
    os.replace(os.path.join(out, "output_%d.npy" % k), os.path.join(out, "expected_%d.npy" % k))
print("wrote", out)
