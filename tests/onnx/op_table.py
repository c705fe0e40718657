#!/usr/bin/env python3
"""Table of node tests passed / total per op family, from tests/onnx/results.txt.

  op_table.py            print the table (markdown)
  op_table.py --write    also put it into tests/onnx/README.md and the
                         project README.md, between the <!-- op-table --> markers

The op family of a case is the op its model tests (onnx_info.family: the
op of a one-node model; an _expanded case counts for the op it expands).
Env: SHARED (default ../shared beside the repository), RESULTS.
"""
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnx_info  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
BEGIN, END = "<!-- op-table -->", "<!-- /op-table -->"


def main(argv):
    results = os.environ.get("RESULTS", os.path.join(HERE, "results.txt"))
    shared = os.environ.get("SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
    nt = os.path.join(shared, "onnx-node-tests")
    status = {}
    header = ""
    with open(results) as f:
        for line in f:
            if line.startswith("#"):
                header = header or line[1:].strip()
                continue
            parts = line.split(None, 2)
            if len(parts) >= 2:
                status[parts[0]] = parts[1]
    fam = {}
    for case in status:
        d = os.path.join(nt, case)
        fam[case] = onnx_info.family(d) if os.path.isdir(d) else case[5:].split("_")[0]
    per = {}
    for case, st in status.items():
        p, t = per.get(fam[case], (0, 0))
        per[fam[case]] = (p + (st == "PASS"), t + 1)
    npass = sum(p for p, _ in per.values())
    lines = ["| op | passed | total |", "|---|---:|---:|"]
    for op in sorted(per, key=str.lower):
        p, t = per[op]
        lines.append("| %s | %d | %d |" % (op, p, t))
    lines.append("| **all** (%d ops) | **%d** | **%d** |" % (len(per), npass, len(status)))
    fully = sum(1 for p, t in per.values() if p == t)
    table = "\n".join(lines)
    summary = "%d of %d node tests pass; %d of %d op families pass all their cases (%s)." % (
        npass, len(status), fully, len(per), header or "results.txt")
    print(summary)
    print()
    print(table)
    if "--write" in argv:
        # the conformance README and the project README carry the same table
        for readme in (os.path.join(HERE, "README.md"), os.path.join(ROOT, "README.md")):
            text = open(readme).read() if os.path.exists(readme) else ""
            block = "%s\n%s\n\n%s\n%s" % (BEGIN, summary, table, END)
            if BEGIN in text and END in text:
                text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
            else:
                text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
            with open(readme, "w") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
