#!/usr/bin/env python3
"""Read the few facts the test scripts need from a model.onnx, with no
dependency beyond python3 (a minimal protobuf wire reader: python3-onnx is
not needed).

  onnx_info.py inputs MODEL.onnx   one line per graph.input: "K NAME" or
                                   "K NAME init" when it is also an initializer
  onnx_info.py ops MODEL.onnx      the op_type of every top-level node, in order
  onnx_info.py family DIR...       "CASE FAMILY" for node-test case directories
                                   (the op a case tests; see family())
"""
import os
import re
import sys

sys.dont_write_bytecode = True


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 127) << s
        if not c & 128:
            return v, i
        s += 7


def fields(b):
    """yields (field number, wire type, value) over one message; value is
    bytes for length-delimited fields, an int otherwise"""
    i, n = 0, len(b)
    while i < n:
        key, i = varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v, i = int.from_bytes(b[i:i + 8], "little"), i + 8
        elif wt == 2:
            ln, i = varint(b, i)
            v, i = b[i:i + ln], i + ln
        elif wt == 5:
            v, i = int.from_bytes(b[i:i + 4], "little"), i + 4
        else:
            raise ValueError("bad wire type %d" % wt)
        yield f, wt, v


def first(b, num):
    for f, wt, v in fields(b):
        if f == num and wt == 2:
            return v
    return None


def graph_of(path):
    with open(path, "rb") as fh:
        m = fh.read()
    g = first(m, 7)  # ModelProto.graph
    if g is None:
        raise ValueError("%s: no graph" % path)
    return g


def inputs(g):
    inits = set()
    names = []
    for f, wt, v in fields(g):
        if f == 5 and wt == 2:  # initializer: TensorProto.name = 8
            n = first(v, 8)
            if n is not None:
                inits.add(n.decode())
        elif f == 11 and wt == 2:  # input: ValueInfoProto.name = 1
            n = first(v, 1)
            names.append(n.decode() if n is not None else "")
    return [(k, n, n in inits) for k, n in enumerate(names)]


def ops(g):
    return [(first(v, 4) or b"").decode() for f, wt, v in fields(g) if f == 1 and wt == 2]


def snake(op):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", op).lower()


def family(case_dir):
    """The op a node-test case tests.  A one-node model: that node's op.  An
    '_expanded' case (the function body of an op, many nodes): the op of its
    non-expanded sibling.  Otherwise: the node op whose name best matches the
    case name, else the first node that is not a Constant."""
    name = os.path.basename(case_dir.rstrip("/"))
    base = re.sub(r"_expanded(_ver\d+)?$", "", name)
    if base != name:
        sib = os.path.join(os.path.dirname(case_dir.rstrip("/")), base)
        if os.path.exists(os.path.join(sib, "model.onnx")):
            return family(sib)
    try:
        o = ops(graph_of(os.path.join(case_dir, "model.onnx")))
    except Exception:  # noqa: BLE001 - unreadable model: fall back on the name
        o = []
    if len(o) == 1:
        return o[0]
    key = name[5:] if name.startswith("test_") else name
    flat = key.replace("_", "")
    best = None
    for op in o:
        for cand in (snake(op), op.lower()):
            if key.startswith(cand) or flat.startswith(cand):
                if best is None or len(op) > len(best):
                    best = op
    if best:
        return best
    rest = [op for op in o if op != "Constant"]
    if rest:
        return rest[0]
    return key.split("_")[0] or "?"


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd = argv[1]
    try:
        if cmd == "inputs":
            for k, n, init in inputs(graph_of(argv[2])):
                print("%d %s%s" % (k, n, " init" if init else ""))
        elif cmd == "ops":
            for op in ops(graph_of(argv[2])):
                print(op)
        elif cmd == "family":
            for d in argv[2:]:
                print("%s %s" % (os.path.basename(d.rstrip("/")), family(d)))
        else:
            sys.stderr.write(__doc__)
            return 2
    except (OSError, ValueError, IndexError) as e:
        sys.stderr.write("onnx_info: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
