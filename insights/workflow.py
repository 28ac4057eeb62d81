"""The plan workflow as a small diagram, derived from django-fsm's transitions on Plan.status
(so a state or transition added to the model appears without touching this), with one plan's
current state and the transitions it took (from the audit log) marked.

Layout: states in columns by their distance from the initial state; within a column the state
that leads on sits on the middle row, the others above and below. Edges between neighbouring
columns are straight; edges back over more than one column are arcs that run under every node.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from audit.actions import ACTIONS
from plans import selectors as plan_selectors
from plans.models import Plan

NODE_W, NODE_H = 112, 30
COL_GAP, ROW_GAP = 142, 46
PAD_X, PAD_Y = 8, 10
ROW_ORDER = (0, -1, 1, -2, 2, -3, 3)


@dataclass
class Node:
    state: str
    label: str
    x: float
    y: float
    row: int
    current: bool = False
    visited: bool = False

    @property
    def cx(self) -> float:
        return self.x + NODE_W / 2

    @property
    def cy(self) -> float:
        return self.y + NODE_H / 2

    @property
    def tx(self) -> float:  # where the label is drawn
        return self.cx

    @property
    def ty(self) -> float:
        return self.cy + 4


@dataclass
class Edge:
    source: str
    target: str
    names: list[str]
    path: str = ""
    back: bool = False
    taken: bool = False

    @property
    def label(self) -> str:
        return f"{', '.join(self.names)}: {self.source} → {self.target}"


@dataclass
class Diagram:
    nodes: list[Node]
    edges: list[Edge]
    width: float
    height: float
    node_w: int = NODE_W
    node_h: int = NODE_H


def transitions(model=Plan, field_name: str = "status") -> list[tuple[str, str, str]]:
    """(name, source, target) of every transition, wildcards expanded."""
    fsm_field = model._meta.get_field(field_name)
    states = [value for value, _ in fsm_field.choices]
    out = []
    for t in fsm_field.get_all_transitions(model):
        if t.target is None:
            continue
        sources = states if t.source in ("*", "+") else [t.source]
        for source in sources:
            if t.source == "+" and source == t.target:
                continue
            out.append((t.name, source, t.target))
    return out


def diagram(*, current: str = "", taken: set[tuple[str, str]] = frozenset(),
            model=Plan, field_name: str = "status") -> Diagram:
    fsm_field = model._meta.get_field(field_name)
    labels = dict(fsm_field.choices)
    order = list(labels)
    moves = transitions(model, field_name)
    for _, source, target in moves:  # a state only a transition names
        for state in (source, target):
            if state not in labels:
                labels[state] = state.replace("_", " ").capitalize()
                order.append(state)
    successors = defaultdict(list)
    for _, source, target in moves:
        successors[source].append(target)
    initial = fsm_field.default if fsm_field.default in labels else order[0]
    depth = {initial: 0}
    queue = deque([initial])
    while queue:
        state = queue.popleft()
        for nxt in successors[state]:
            if nxt not in depth:
                depth[nxt] = depth[state] + 1
                queue.append(nxt)
    last = max(depth.values(), default=0)
    for state in order:  # unreachable states go in a column of their own
        depth.setdefault(state, last + 1)
    columns = defaultdict(list)
    for state in order:
        columns[depth[state]].append(state)
    visited = {s for pair in taken for s in pair} | ({current} if current else set())
    rows = {}
    for col, states in columns.items():
        leads_on = sorted(states, key=lambda s: (
            not any(depth.get(n, -1) == col + 1 for n in successors[s]), order.index(s)))
        for i, state in enumerate(leads_on):
            rows[state] = ROW_ORDER[i] if i < len(ROW_ORDER) else i
    top_row = min(rows.values())
    bottom_row = max(rows.values())
    nodes = {
        state: Node(state, labels[state],
                    x=PAD_X + depth[state] * COL_GAP,
                    y=PAD_Y + (rows[state] - top_row) * ROW_GAP,
                    row=rows[state], current=state == current, visited=state in visited)
        for state in order
    }
    height = PAD_Y * 2 + (bottom_row - top_row) * ROW_GAP + NODE_H
    width = PAD_X * 2 + max(depth.values()) * COL_GAP + NODE_W
    grouped: dict[tuple[str, str], list[str]] = {}
    for name, source, target in moves:
        names = grouped.setdefault((source, target), [])
        if name not in names:
            names.append(name)
    edges = []
    low = PAD_Y + (bottom_row - top_row) * ROW_GAP + NODE_H + 10  # below every node
    for (source, target), names in grouped.items():
        a, b = nodes[source], nodes[target]
        edge = Edge(labels[source], labels[target], names, taken=(source, target) in taken)
        span = depth[source] - depth[target]
        paired = (target, source) in grouped
        if span == -1 or ((span == 1 and a.row == b.row) or (span == 1 and paired)):
            # Neighbouring columns: a straight line, right edge to left edge (or back), and
            # a little apart from the edge going the other way.
            forward = span == -1
            x1, x2 = (a.x + NODE_W, b.x - 4) if forward else (a.x, b.x + NODE_W + 4)
            shift = (-4 if forward else 4) if paired else 0
            edge.back = not forward
            edge.path = f"M{x1:.0f},{a.cy + shift:.0f} L{x2:.0f},{b.cy + shift:.0f}"
        elif span < 0:  # further forward: straight
            edge.path = f"M{a.x + NODE_W:.0f},{a.cy:.0f} L{b.x - 4:.0f},{b.cy:.0f}"
        else:
            # Back over more than one column: down from the source, under every node, up into
            # the target; longer spans run lower and land further right, so arcs stay apart.
            edge.back = True
            x_a, x_b = a.cx - 10, b.cx + 6 + 12 * min(span - 1, 4)
            y_a, y_b = a.y + NODE_H, b.y + NODE_H + 4
            y_c = (low + 7 * span - 0.25 * (y_a + y_b) / 2) / 0.75
            edge.path = (f"M{x_a:.0f},{y_a:.0f} C{x_a:.0f},{y_c:.0f} {x_b:.0f},{y_c:.0f} "
                         f"{x_b:.0f},{y_b:.0f}")
            height = max(height, y_c * 0.75 + y_a * 0.25 + 12)
        edges.append(edge)
    return Diagram(nodes=list(nodes.values()), edges=edges, width=width, height=height)


@dataclass
class Step:
    """One transition the plan took."""

    at: object
    actor: str
    action: str
    source: str
    target: str
    revision: int | None


@dataclass
class PlanWorkflow:
    current: str
    taken: frozenset  # (source, target) of each transition the plan took
    steps: list[Step] = field(default_factory=list)
    truncated: bool = False

    @property
    def diagram(self) -> Diagram:
        return workflow_diagram(self.current, self.taken)


def workflow_diagram(current: str, taken: frozenset) -> Diagram:
    """diagram() for one state and set of transitions taken: it depends on nothing else (the
    model's transitions are code), so the page renders it once per process for each
    combination (insights_tags.py)."""
    return diagram(current=current, taken=taken)


def plan_workflow(plan: Plan) -> PlanWorkflow:
    """The diagram for `plan` and its transitions, oldest first (plans/selectors.py
    transitions: on the plan page from its cache entry, else two queries)."""
    labels = dict(Plan._meta.get_field("status").choices)
    taken_moves = plan_selectors.transitions(plan)
    steps, taken = [], set()
    for at, actor, action, source, target, revision in taken_moves["moves"]:
        if target not in labels:
            continue
        taken.add((source, target))
        steps.append(Step(at, actor or "system", ACTIONS.get(action, action),
                          labels.get(source, source or "—"), labels[target], revision))
    return PlanWorkflow(plan.status, frozenset(taken), steps, taken_moves["truncated"])
