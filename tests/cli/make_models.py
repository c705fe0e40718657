#!/usr/bin/env python3
"""Write the small models and data files of the CLI tier (tests/cli/models/).

Needs nothing but python3: the ONNX protobuf messages are encoded by hand
(the few fields used here), so CI needs no python3-onnx.  The outputs are
committed; rerun after changing this script:

    python3 tests/cli/make_models.py

Models (opset 17; x and y are float[2,3] unless said otherwise):
  add.onnx            z = x + y                         (valid)
  mlp.onnx            z = Relu(x[2,3] @ W[3,4] + b[4])  (valid, weights)
  extdata_ok.onnx     z = x + W, W in extdata_ok.bin beside the model (valid)
  unknown_op.onnx     a node of op type FooBar
  unknown_domain.onnx Relu in domain com.example
  bad_attr_type.onnx  Flatten with axis given as a string
  unknown_attr.onnx   Relu with an attribute it does not have
  missing_attr.onnx   Constant with no value attribute
  bad_shapes.onnx     Add of float[2,3] and float[4]
  cycle.onnx          a = x + b, b = Relu(a): a cycle
  extdata_outside.onnx an initializer whose external data is ../x.bin
Data (.npy, little-endian):
  x23.npy       float32[2,3]     the right input for add/mlp
  x4.npy        float32[4]       wrong shape
  x23_i32.npy   int32[2,3]       wrong dtype
  x46.npy       float32[4,3]     two stacked samples of float32[2,3]
  garbage.npy   not a .npy file
"""
import os
import struct
import sys

sys.dont_write_bytecode = True

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
FLOAT, INT32, INT64 = 1, 6, 7


# ---- protobuf wire format ----
def varint(v):
    if v < 0:
        v += 1 << 64
    b = bytearray()
    while True:
        c = v & 127
        v >>= 7
        if v:
            b.append(c | 128)
        else:
            b.append(c)
            return bytes(b)


def key(field, wt):
    return varint(field << 3 | wt)


def f_varint(field, v):
    return key(field, 0) + varint(v)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return key(field, 2) + varint(len(b)) + b


def f_float(field, v):
    return key(field, 5) + struct.pack("<f", v)


# ---- ONNX messages ----
def tensor_type(elem, dims):
    shape = b"".join(f_bytes(1, f_varint(1, d)) for d in dims)  # TensorShapeProto.dim.dim_value
    return f_bytes(1, f_varint(1, elem) + f_bytes(2, shape))  # TypeProto.tensor_type


def value_info(name, elem, dims):
    return f_bytes(1, name) + f_bytes(2, tensor_type(elem, dims))


def tensor(name, elem, dims, values=None, external=None):
    t = b"".join(f_varint(1, d) for d in dims) + f_varint(2, elem) + f_bytes(8, name)
    if external is not None:
        for k, v in external:
            t += f_bytes(13, f_bytes(1, k) + f_bytes(2, v))
        t += f_varint(14, 1)  # data_location = EXTERNAL
    else:
        fmt = {FLOAT: "f", INT32: "i", INT64: "q"}[elem]
        t += f_bytes(9, struct.pack("<%d%s" % (len(values), fmt), *values))  # raw_data
    return t


def attr_int(name, v):
    return f_bytes(1, name) + f_varint(3, v) + f_varint(20, 2)


def attr_str(name, s):
    return f_bytes(1, name) + f_bytes(4, s) + f_varint(20, 3)


def attr_float(name, v):
    return f_bytes(1, name) + f_float(2, v) + f_varint(20, 1)


def node(op, ins, outs, name=None, attrs=(), domain=None):
    n = b"".join(f_bytes(1, i) for i in ins) + b"".join(f_bytes(2, o) for o in outs)
    n += f_bytes(3, name or op + "_0") + f_bytes(4, op)
    n += b"".join(f_bytes(5, a) for a in attrs)
    if domain is not None:
        n += f_bytes(7, domain)
    return n


def model(nodes, inputs, outputs, inits=(), opsets=(("", 17),)):
    g = b"".join(f_bytes(1, n) for n in nodes) + f_bytes(2, "g")
    g += b"".join(f_bytes(5, t) for t in inits)
    g += b"".join(f_bytes(11, v) for v in inputs) + b"".join(f_bytes(12, v) for v in outputs)
    m = f_varint(1, 8) + f_bytes(2, "mrtc-cli-tests")
    m += b"".join(f_bytes(8, f_bytes(1, d) + f_varint(2, v)) for d, v in opsets)
    return m + f_bytes(7, g)


def npy(descr, shape, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % d for d in shape).rstrip(" ") if len(shape) != 1 else "%d," % shape[0])
    h += " " * (63 - (10 + len(h)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    x, y, z = value_info("x", FLOAT, [2, 3]), value_info("y", FLOAT, [2, 3]), value_info("z", FLOAT, [2, 3])
    write("add.onnx", model([node("Add", ["x", "y"], ["z"])], [x, y], [z]))
    W = tensor("W", FLOAT, [3, 4], [0.5 * i - 2.0 for i in range(12)])
    b = tensor("b", FLOAT, [4], [0.25, -0.5, 1.0, 0.0])
    write("mlp.onnx", model([node("MatMul", ["x", "W"], ["h"]), node("Add", ["h", "b"], ["a"]),
                             node("Relu", ["a"], ["z"])], [x], [value_info("z", FLOAT, [2, 4])], [W, b]))
    write("extdata_ok.bin", struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    Wx = tensor("W", FLOAT, [2, 3], external=[("location", "extdata_ok.bin"), ("offset", "0"), ("length", "24")])
    write("extdata_ok.onnx", model([node("Add", ["x", "W"], ["z"])], [x], [z], [Wx]))
    write("unknown_op.onnx", model([node("FooBar", ["x"], ["z"])], [x], [z]))
    write("unknown_domain.onnx", model([node("Relu", ["x"], ["z"], domain="com.example")], [x], [z],
                                       opsets=(("", 17), ("com.example", 1))))
    write("bad_attr_type.onnx", model([node("Flatten", ["x"], ["z"], attrs=[attr_str("axis", "one")])], [x],
                                      [value_info("z", FLOAT, [2, 3])]))
    write("unknown_attr.onnx", model([node("Relu", ["x"], ["z"], attrs=[attr_float("gamma", 2.0)])], [x], [z]))
    write("missing_attr.onnx", model([node("Constant", [], ["c"]), node("Add", ["x", "c"], ["z"])], [x], [z]))
    write("bad_shapes.onnx", model([node("Add", ["x", "y4"], ["z"])], [x, value_info("y4", FLOAT, [4])], [z]))
    write("cycle.onnx", model([node("Add", ["x", "b"], ["a"], name="add"), node("Relu", ["a"], ["b"], name="relu")],
                              [x], [value_info("a", FLOAT, [2, 3])]))
    Wo = tensor("W", FLOAT, [2, 3], external=[("location", "../x.bin"), ("offset", "0"), ("length", "24")])
    write("extdata_outside.onnx", model([node("Add", ["x", "W"], ["z"])], [x], [z], [Wo]))
    write("x23.npy", npy("<f4", [2, 3], struct.pack("<6f", 0.5, -1.0, 2.0, 0.0, 3.5, -2.5)))
    write("x4.npy", npy("<f4", [4], struct.pack("<4f", 1, 2, 3, 4)))
    write("x23_i32.npy", npy("<i4", [2, 3], struct.pack("<6i", 1, 2, 3, 4, 5, 6)))
    write("x46.npy", npy("<f4", [4, 3], struct.pack("<12f", *[0.5 * i - 3 for i in range(12)])))
    write("garbage.npy", b"this is not a numpy file\n")


if __name__ == "__main__":
    main()
