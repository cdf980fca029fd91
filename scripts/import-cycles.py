#!/usr/bin/env python3
"""Fails when a top-level module of server/src imports one that imports it back (directly or
round a longer loop). Reads `crate::MODULE` paths in each module's files, leaving out test code
(`tests.rs` files and everything after `#[cfg(test)]`). Prints the import graph with --graph."""
import os
import re
import sys


def graph(root):
    edges = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs") or name == "tests.rs":
                continue
            path = os.path.join(folder, name)
            top = os.path.relpath(path, root).split("/")[0].removesuffix(".rs")
            if top in ("lib", "main"):
                continue
            text = open(path, encoding="utf-8").read().split("#[cfg(test)]")[0]
            edges.setdefault(top, set()).update(m for m in re.findall(r"crate::([a-z_]+)", text) if m != top)
    return {m: {d for d in deps if d in edges} for m, deps in edges.items()}


def cycles(edges):
    """Tarjan's strongly connected components of more than one module."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


if __name__ == "__main__":
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server", "src")
    edges = graph(root)
    if "--graph" in sys.argv:
        for module in sorted(edges):
            print(f"{module} -> {', '.join(sorted(edges[module])) or '(nothing)'}")
    loops = cycles(edges)
    for loop in loops:
        print(f"import cycle among server/src modules: {' <-> '.join(loop)}", file=sys.stderr)
    sys.exit(1 if loops else 0)
