#!/usr/bin/env python3
"""tests/models/stem_pool: Conv (+ activation) + MaxPool pairs that
compiler/pass_pool.c fuses into one kernel (runtime/k_convpool.h: the
convolution's rows computed a band at a time and pooled as they come), on
maps tall enough for several bands:

  a  Conv 3x3/2, no pad, Relu, MaxPool 3x3/2 ceil_mode   (squeezenet's stem)
  b  Conv 7x7/2 pad 3, Relu, MaxPool 3x3/2 pad 1         (resnet's stem)
  c  Conv 5x5/1 pad 2, Sigmoid, MaxPool 2x2/2            (windows that do not overlap)
  d  Conv 3x3/1 pad 1, no activation, MaxPool 3x3/1 pad 1 (two rows kept between bands)
  e  Conv 3x3/2 pad 1, Relu read twice: by a MaxPool and as an output (not fused)

Outputs computed by ONNX Runtime (tests/tools/ort_run.js):
`python3 tests/models/make_stem_model.py [OUTDIR]`.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "stem_pool")
rng = np.random.default_rng(11)
N, C, H, W = 1, 3, 41, 37
inits, nodes, outs = [], [], []


def conv_pool(tag, M, k, s, p, act, pool):
    w = numpy_helper.from_array((rng.standard_normal((M, C, k, k)) * 0.3).astype(np.float32), tag + "_w")
    b = numpy_helper.from_array((rng.standard_normal(M) * 0.2).astype(np.float32), tag + "_b")
    inits.extend([w, b])
    nodes.append(helper.make_node("Conv", ["x", tag + "_w", tag + "_b"], [tag + "_c"], name=tag + "_conv",
                                  kernel_shape=[k, k], strides=[s, s], pads=[p] * 4))
    y = tag + "_c"
    if act:
        nodes.append(helper.make_node(act, [y], [tag + "_a"], name=tag + "_act"))
        y = tag + "_a"
    nodes.append(helper.make_node("MaxPool", [y], [tag + "_y"], name=tag + "_pool", **pool))
    oh, ow = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    pk, ps, pp = pool["kernel_shape"][0], pool["strides"][0], pool.get("pads", [0])[0]
    rnd = (lambda a: -(-a // ps)) if pool.get("ceil_mode") else (lambda a: a // ps)
    outs.append(helper.make_tensor_value_info(tag + "_y", TensorProto.FLOAT,
                                              [N, M, rnd(oh + 2 * pp - pk) + 1, rnd(ow + 2 * pp - pk) + 1]))
    return y, [N, M, oh, ow]


conv_pool("a", 16, 3, 2, 0, "Relu", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1))
conv_pool("b", 24, 7, 2, 3, "Relu", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
conv_pool("c", 8, 5, 1, 2, "Sigmoid", dict(kernel_shape=[2, 2], strides=[2, 2]))
conv_pool("d", 12, 3, 1, 1, None, dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]))
e, eshape = conv_pool("e", 8, 3, 2, 1, "Relu", dict(kernel_shape=[3, 3], strides=[2, 2]))
outs.append(helper.make_tensor_value_info(e, TensorProto.FLOAT, eshape))

g = helper.make_graph(nodes, "stem_pool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N, C, H, W])], outs, inits)
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_stem_model.py")
onnx.checker.check_model(model)
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
np.save(os.path.join(out, "input_0.npy"), rng.standard_normal((N, C, H, W)).astype(np.float32))
subprocess.run(["node", os.path.join(here, "..", "tools", "ort_run.js"), os.path.join(out, "model.onnx"),
                os.path.join(out, "input_0.npy"), "-o", out], check=True)
for k in range(len(outs)):
    os.replace(os.path.join(out, "output_%d.npy" % k), os.path.join(out, "expected_%d.npy" % k))
print("wrote", out)
