#!/usr/bin/env python3
"""Small ONNX models that exercise every fuse.c pattern (used by
bench/fuse_models.sh): Conv + BatchNormalization (with and without conv
bias) + Relu, Conv + constant per-channel Add + LeakyRelu, residual Add
whose other operand comes later in the schedule, Clip with attributes
(opset 6) and inputs (opset 13), HardSwish, HardSigmoid, Sigmoid, Tanh,
depthwise and grouped Conv, Gemm + Sigmoid, MatMul + bias Add + Tanh,
MatMul + residual Add, and a fusable value that is also a graph output
(must not fuse).

    make_fuse_models.py OUTDIR    writes OUTDIR/<name>/model.onnx and input_0.npy
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)


def t(name, *shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def save(out, name, nodes, inits, inp_shape, outputs, opset=13):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, inp_shape)],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.checker.check_model(m) if all(o.type.tensor_type.HasField("shape") for o in g.output) else None
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    np.save(os.path.join(d, "input_0.npy"), rng.standard_normal(inp_shape).astype(np.float32))


def bn(name, x, y, c):
    return (helper.make_node("BatchNormalization", [x, name + "_s", name + "_b", name + "_m", name + "_v"], [y], name=name,
                             epsilon=1e-3),
            [t(name + "_s", c), t(name + "_b", c), t(name + "_m", c),
             numpy_helper.from_array((rng.random(c) + 0.5).astype(np.float32), name + "_v")])


def main(out):
    # CNN: conv+bn+relu, conv(no bias)+bn, const add, leaky, residual from a later branch, clip, hardswish, dw, group
    n, i = [], []
    n.append(helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]))
    i += [t("w1", 16, 3, 3, 3), t("b1", 16)]
    nb, ib = bn("bn1", "c1", "n1", 16); n.append(nb); i += ib
    n.append(helper.make_node("Relu", ["n1"], ["r1"], name="relu1"))
    n.append(helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]))
    i += [t("w2", 16, 16, 3, 3, scale=0.1)]
    nb, ib = bn("bn2", "c2", "n2", 16); n.append(nb); i += ib
    n.append(helper.make_node("Add", ["n2", "k2"], ["a2"], name="addconst"))
    i += [t("k2", 1, 16, 1, 1)]
    n.append(helper.make_node("LeakyRelu", ["a2"], ["l2"], name="leaky", alpha=0.2))
    # residual: Add(l2, c3) where c3 (a 1x1 conv of r1) is scheduled after conv2
    n.append(helper.make_node("Conv", ["r1", "w3", "b3"], ["c3"], name="conv3"))
    i += [t("w3", 16, 16, 1, 1), t("b3", 16)]
    n.append(helper.make_node("Add", ["l2", "c3"], ["s3"], name="resadd"))
    n.append(helper.make_node("Clip", ["s3", "lo", "hi"], ["k3"], name="clip"))
    i += [numpy_helper.from_array(np.array(0.0, np.float32), "lo"), numpy_helper.from_array(np.array(1.5, np.float32), "hi")]
    n.append(helper.make_node("Conv", ["k3", "w4", "b4"], ["c4"], name="dw", group=16, pads=[1, 1, 1, 1], strides=[2, 2]))
    i += [t("w4", 32, 1, 3, 3), t("b4", 32)]
    n.append(helper.make_node("HardSwish", ["c4"], ["h4"], name="hswish"))
    n.append(helper.make_node("Conv", ["h4", "w5", "b5"], ["c5"], name="gconv", group=4, pads=[0, 1, 0, 1], kernel_shape=[1, 3]))
    i += [t("w5", 8, 8, 1, 3), t("b5", 8)]
    n.append(helper.make_node("HardSigmoid", ["c5"], ["y"], name="hsig", alpha=0.3, beta=0.4))
    save(out, "fuse_cnn", n, i, [2, 3, 13, 11], ["y"], opset=14)
    # Clip with attributes at opset 6, Sigmoid, Tanh, and a conv output that is also a graph output
    n = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
         helper.make_node("Clip", ["c1"], ["k1"], name="clip6", min=-0.5, max=0.5),
         helper.make_node("Conv", ["k1", "w2", "b2"], ["c2"], name="conv2"),
         helper.make_node("Sigmoid", ["c2"], ["s2"], name="sigmoid"),
         helper.make_node("Conv", ["s2", "w3", "b3"], ["c3"], name="conv3", pads=[2, 2, 2, 2], dilations=[2, 2], kernel_shape=[3, 3]),
         helper.make_node("Tanh", ["c3"], ["y"], name="tanh"),
         helper.make_node("Relu", ["c3"], ["y2"], name="relu_of_output")]
    i = [t("w1", 8, 3, 3, 3), t("b1", 8), t("w2", 8, 8, 1, 1), t("b2", 8), t("w3", 8, 8, 3, 3), t("b3", 8)]
    save(out, "fuse_opset6", n, i, [1, 3, 9, 9], ["y", "y2", "c3"], opset=6)
    # MLP: Gemm + Sigmoid, MatMul + bias Add + Tanh, MatMul + residual Add, Gemm with C + Relu
    n = [helper.make_node("Gemm", ["x", "g1"], ["h1"], name="gemm1", transB=1),
         helper.make_node("Sigmoid", ["h1"], ["s1"], name="sig1"),
         helper.make_node("MatMul", ["s1", "m2"], ["h2"], name="mm2"),
         helper.make_node("Add", ["h2", "bb2"], ["a2"], name="bias2"),
         helper.make_node("Tanh", ["a2"], ["t2"], name="tanh2"),
         helper.make_node("MatMul", ["t2", "m3"], ["h3"], name="mm3"),
         helper.make_node("Add", ["s1", "h3"], ["a3"], name="res3"),
         helper.make_node("Gemm", ["a3", "g4", "c4"], ["h4"], name="gemm4", alpha=0.7, beta=1.3),
         helper.make_node("Relu", ["h4"], ["y"], name="relu4")]
    i = [t("g1", 40, 24), t("m2", 40, 33), t("bb2", 33), t("m3", 33, 40), t("g4", 40, 10), t("c4", 10)]
    save(out, "fuse_mlp", n, i, [5, 24], ["y"])
    # batched MatMul + residual, MatMul + bias over a 3-D input
    n = [helper.make_node("MatMul", ["x", "m1"], ["h1"], name="mm1"),
         helper.make_node("Add", ["bb1", "h1"], ["a1"], name="bias1"),
         helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
         helper.make_node("MatMul", ["r1", "m2"], ["h2"], name="mm2"),
         helper.make_node("Add", ["h2", "x"], ["y"], name="res2")]
    i = [t("m1", 12, 20), t("bb1", 20), t("m2", 20, 12)]
    save(out, "fuse_seq", n, i, [3, 7, 12], ["y"])


if __name__ == "__main__":
    main(sys.argv[1])
