"""No two project modules import each other, directly or through others.

A circle hides which module depends on which: neither can be read, tested or replaced without the
other. Imports under TYPE_CHECKING and inside functions count as much as module-level ones (grimp
sees all three): they only postpone the circle from import time to the type checker or the first
call, the dependency is the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import grimp

PACKAGES = ("bot", "adapters", "scheduler", "storage", "reflectbot")


def import_graph(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Each project module and the project modules it imports."""
    return {
        module: {m for m in graph.find_modules_directly_imported_by(module) if m.split(".")[0] in PACKAGES}
        for module in graph.modules
        if module.split(".")[0] in PACKAGES
    }


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit): the groups of modules that all reach
    one another."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(sorted(group))
    return groups


def shortest_cycle(graph: Mapping[str, Iterable[str]], group: list[str]) -> list[str]:
    """One shortest circle through the group's first module, as a -> b -> ... -> a."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    return [start, start]


def circular_groups(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    return [g for g in strongly_connected(graph) if len(g) > 1 or g[0] in graph[g[0]]]


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    return [shortest_cycle(graph, group) for group in circular_groups(graph)]


def describe(grimp_graph: grimp.ImportGraph, graph: Mapping[str, Iterable[str]]) -> str:
    """Each circular group, one circle through it, and where each of its imports is written."""
    lines = []
    for group in circular_groups(graph):
        cycle = shortest_cycle(graph, group)
        lines.append(f"  {' -> '.join(cycle)}" + (f"  (group: {', '.join(group)})" if len(group) > 2 else ""))
        for importer, imported in itertools.pairwise(cycle):
            for detail in grimp_graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"      {importer}:{detail['line_number']}: {detail['line_contents']}")
    return "\n".join(lines)


def test_the_cycle_finder_finds_a_circle_and_names_it() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_project_modules() -> None:
    grimp_graph = grimp.build_graph(*PACKAGES)
    graph = import_graph(grimp_graph)
    assert not cycles(graph), "import cycles (a -> b: a imports b):\n" + describe(grimp_graph, graph)
