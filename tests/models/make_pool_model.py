#!/usr/bin/env python3
"""tests/models/pool_paths: the fast pooling kernels of runtime/k_pool.h
(k_maxpool2d_f32, its register path k_maxpool3s2_f32, k_gavgpool_f32) on maps
wide enough to reach them: MaxPool 3x3/2 pad 1 (resnet), MaxPool 3x3/2
ceil_mode (squeezenet), MaxPool 2x2/2, GlobalAveragePool.  Outputs computed
by ONNX Runtime (tests/tools/ort_run.js):
`python3 tests/models/make_pool_model.py [OUTDIR]`.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.dont_write_bytecode = True
here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "pool_paths")
rng = np.random.default_rng(5)
N, C, H, W = 1, 3, 70, 75
nodes = [helper.make_node("MaxPool", ["x"], ["y0"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], name="mp_resnet"),
         helper.make_node("MaxPool", ["x"], ["y1"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1, name="mp_ceil"),
         helper.make_node("MaxPool", ["x"], ["y2"], kernel_shape=[2, 2], strides=[2, 2], name="mp_2x2"),
         helper.make_node("GlobalAveragePool", ["x"], ["y3"], name="gap")]
outs = [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [N, C, 35, 38]),
        helper.make_tensor_value_info("y1", TensorProto.FLOAT, [N, C, 35, 37]),
        helper.make_tensor_value_info("y2", TensorProto.FLOAT, [N, C, 35, 37]),
        helper.make_tensor_value_info("y3", TensorProto.FLOAT, [N, C, 1, 1])]
g = helper.make_graph(nodes, "pool_paths", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N, C, H, W])], outs)
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_pool_model.py")
onnx.checker.check_model(model)
os.makedirs(out, exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
np.save(os.path.join(out, "input_0.npy"), rng.standard_normal((N, C, H, W)).astype(np.float32))
subprocess.run(["node", os.path.join(here, "..", "tools", "ort_run.js"), os.path.join(out, "model.onnx"),
                os.path.join(out, "input_0.npy"), "-o", out], check=True)
for k in range(4):
    os.replace(os.path.join(out, "output_%d.npy" % k), os.path.join(out, "expected_%d.npy" % k))
print("wrote", out)
