/*
 * op_if.c: If.  Only a condition known at compile time is supported (a
 * constant, a folded expression, or --bind): shape.c then inlines the
 * chosen branch in place of the node (inline_if), so no hook here runs.
 */
#include "mrtc.h"

static void if_infer(Node *n) { error_node(n, "internal: If must be inlined by shape inference"); }

const OpDef opdef_If = {"then_branch,else_branch", 1, 1, 1, -1, if_infer, NULL, NULL, 0};
