#!/usr/bin/env python3
"""QDQ test models for the quant tier: PyTorch quantization-aware training
(fake quantization) on sklearn's digits, exported to ONNX as
QuantizeLinear / DequantizeLinear pairs, with ONNX Runtime's output.

Writes tests/quant/models/:
  qdq_cnn.onnx           Conv+ReLU, Conv+ReLU, MaxPool, Flatten, Linear+ReLU, Linear (per-channel
                         int8 weights, uint8 activations), opset 13, static batch 16
  qdq_cnn.input.npy      16 held-out digits [16,1,8,8]
  qdq_cnn.expected.npy   ONNX Runtime's output (tests/tools/ort_run.js)
  qdq_cnn.atol           the tolerance: 2 steps of the output's quantization scale
  mrtc_op.onnx           a model naming the internal op MrtcQConv (must be refused)
Usage: python3 tests/quant/make_qdq.py   (needs torch, onnx, node + onnxruntime-node)
"""
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper, TensorProto
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.ao.quantization import (FakeQuantize, MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver,
                                   QConfig, fuse_modules_qat, prepare_qat)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "models")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.r1 = nn.ReLU()
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.r2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.f1 = nn.Linear(16 * 16, 32)
        self.r3 = nn.ReLU()
        self.f2 = nn.Linear(32, 10)
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.pool(self.r2(self.c2(self.r1(self.c1(x)))))
        x = self.f2(self.r3(self.f1(self.flat(x))))
        return self.dequant(x)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=360, stratify=y, random_state=0)
    m = Net()
    m.train()
    m = fuse_modules_qat(m, [["c1", "r1"], ["c2", "r2"], ["f1", "r3"]])
    act = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=torch.quint8,
                                 qscheme=torch.per_tensor_affine, reduce_range=False)
    wt = FakeQuantize.with_args(observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
                                dtype=torch.qint8, qscheme=torch.per_channel_symmetric, reduce_range=False, ch_axis=0)
    m.qconfig = QConfig(activation=act, weight=wt)
    m = prepare_qat(m)
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    lossf = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    g = torch.Generator().manual_seed(0)
    for _ in range(15):
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            lossf(m(xt[idx]), yt[idx]).backward()
            opt.step()
    m.eval()
    m.apply(torch.ao.quantization.disable_observer)
    with torch.no_grad():
        acc = (m(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    print("QAT model: fake-quant test accuracy %.4f" % acc)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "qdq_cnn.onnx")
    inp = np.ascontiguousarray(xte[:16])
    torch.onnx.export(m, torch.from_numpy(inp), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], do_constant_folding=True)
    model = onnx.load(path)
    ops = {}
    for n in model.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("qdq_cnn.onnx:", ", ".join("%s x%d" % kv for kv in sorted(ops.items())))
    np.save(os.path.join(OUT, "qdq_cnn.input.npy"), inp)
    tmp = tempfile.mkdtemp()
    subprocess.run(["node", os.path.join(ROOT, "tests", "tools", "ort_run.js"), path,
                    os.path.join(OUT, "qdq_cnn.input.npy"), "-o", tmp], check=True)
    exp = np.load(os.path.join(tmp, "output_0.npy"))
    np.save(os.path.join(OUT, "qdq_cnn.expected.npy"), exp)
    # the last DequantizeLinear's scale: mrtc's integer requantization may differ from ORT by an LSB
    consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    last = [n for n in model.graph.node if n.op_type == "DequantizeLinear"][-1]
    scale = float(consts[last.input[1]])
    with open(os.path.join(OUT, "qdq_cnn.atol"), "w") as f:
        f.write("%.6g\n" % (2.01 * scale))
    with torch.no_grad():
        ref = m(torch.from_numpy(inp)).numpy()
    print("ORT vs torch fake-quant max abs diff %.3g; output scale %.4g" % (np.abs(exp - ref).max(), scale))

    # a model that names an internal op
    node = helper.make_node("MrtcQConv", ["x"], ["y"], name="sneaky")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(OUT, "mrtc_op.onnx"))


if __name__ == "__main__":
    main()
