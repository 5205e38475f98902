"""The associations page: what is linked to a record, two links out, as a picture and as
a list grouped by kind.

``/ciss/associations/?kind=person&id=<public id>&purpose=<code>``. As on the person
record, the page asks for the purpose first and shows nothing without one; every look
writes one audit row with the start, the purpose and the linked records shown. The
picture is server-drawn SVG (no script): the start in the centre, records one link out
on a ring around it, records two links out on an outer ring next to the record they hang
from. Every record links to its own associations page, persons to their record too.
"""

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ciss.associations import (
    Associations,
    Edge,
    Kind,
    Node,
    Ref,
    associations,
    associations_viewed,
    group_by_kind,
)
from obts.access import RECORD_ROLES, Purpose, visibility_for
from obts.models import Flag
from obts.views import FLAG_STYLES, PurposeForm
from portal.access import acting_user, require_roles

# The record, in words, by kind: "No vehicle ...", "Start from a vehicle".
KIND_NAMES: dict[str, str] = {
    Kind.PERSON: "person",
    Kind.LOCATION: "address",
    Kind.VEHICLE: "vehicle",
    Kind.INCIDENT: "event",
    Kind.PROPERTY: "property item",
    Kind.CASE: "court case",
}
BAD_KIND = (
    "Say what kind of record to start from: kind must be one of " + ", ".join(Kind.values) + "."
)
NO_ID = "Say which record to start from: id must be its id (for an address, its address key)."

# The picture, in SVG user units (it scales with the page).
WIDTH, HEIGHT = 1000, 800
CENTRE_X, CENTRE_Y = WIDTH / 2, HEIGHT / 2
RINGS = {1: 170.0, 2: 320.0}
SIZES = {0: 22.0, 1: 14.0, 2: 9.0}
# Above these counts the names would overlap: the picture keeps them in its tooltips and
# the list below says them all.
NAMED_ON_RING = {0: 1, 1: 16, 2: 12}
LABELLED_LINES = 12
LABEL_CHARACTERS = 24
# Diamond, triangle, hexagon.
CORNERS: dict[str, int] = {Kind.INCIDENT: 4, Kind.PROPERTY: 3, Kind.CASE: 6}


@dataclass(frozen=True)
class Shape:
    """A node as SVG draws it: ``tag`` is circle, rect or polygon, with its geometry."""

    tag: str
    cx: str = ""
    cy: str = ""
    r: str = ""
    x: str = ""
    y: str = ""
    width: str = ""
    height: str = ""
    rx: str = ""
    points: str = ""


@dataclass(frozen=True)
class PictureNode:
    node: Node
    shape: Shape
    url: str
    title: str
    css: str
    label: str
    label_x: str
    label_y: str
    anchor: str


@dataclass(frozen=True)
class PictureLine:
    x1: str
    y1: str
    x2: str
    y2: str
    title: str
    role: str
    label_x: str
    label_y: str
    show_label: bool


@dataclass
class Picture:
    nodes: list[PictureNode] = field(default_factory=list)
    lines: list[PictureLine] = field(default_factory=list)
    description: str = ""
    centre_x: str = f"{CENTRE_X:.1f}"
    centre_y: str = f"{CENTRE_Y:.1f}"
    rings: list[str] = field(default_factory=lambda: [f"{r:.1f}" for r in RINGS.values()])


@dataclass(frozen=True)
class LinkRow:
    role: str
    source_system: str
    via: Node | None
    via_url: str


@dataclass(frozen=True)
class Entry:
    """One linked record in the list, with the links that reach it."""

    node: Node
    url: str
    record_url: str
    flags: list[dict[str, str]]
    links: list[LinkRow]


def _n(value: float) -> str:
    return f"{value:.1f}"


def associations_url(kind: str, ident: str, purpose: str) -> str:
    query = urlencode({"kind": kind, "id": ident, "purpose": purpose})
    return f"{reverse('ciss:associations')}?{query}"


def _record_url(node: Node, purpose: str) -> str:
    if node.kind != Kind.PERSON:
        return ""
    path = reverse("obts:person", kwargs={"public_id": node.id})
    return f"{path}?{urlencode({'purpose': purpose})}"


def _flags(node: Node) -> list[dict[str, str]]:
    return [
        {"code": code, "label": Flag(code).label, "style": FLAG_STYLES[code]}
        for code in node.flags
        if code in FLAG_STYLES
    ]


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "…"


def _shape(kind: str, x: float, y: float, size: float) -> Shape:
    """Each kind its own shape, so the picture reads without colour too."""
    if kind == Kind.PERSON:
        return Shape("circle", cx=_n(x), cy=_n(y), r=_n(size))
    if kind == Kind.LOCATION:
        return Shape(
            "rect", x=_n(x - size), y=_n(y - size), width=_n(2 * size), height=_n(2 * size)
        )
    if kind == Kind.VEHICLE:
        return Shape(
            "rect",
            x=_n(x - 1.3 * size),
            y=_n(y - 0.75 * size),
            width=_n(2.6 * size),
            height=_n(1.5 * size),
            rx=_n(0.45 * size),
        )
    corners = CORNERS.get(kind, 5)
    turn = -math.pi / 2
    points = " ".join(
        f"{_n(x + 1.2 * size * math.cos(turn + 2 * math.pi * i / corners))},"
        f"{_n(y + 1.2 * size * math.sin(turn + 2 * math.pi * i / corners))}"
        for i in range(corners)
    )
    return Shape("polygon", points=points)


def _title(node: Node) -> str:
    parts = [f"{KIND_NAMES[node.kind].capitalize()}: {node.label}"]
    if node.detail:
        parts.append(node.detail)
    if node.flags:
        parts.append(", ".join(str(Flag(code).label) for code in node.flags))
    return " · ".join(parts)


def _angles(graph: Associations) -> dict[Ref, float]:
    """A radial tree: each record one link out gets a slice of the circle as wide as the
    records hanging from it, and sits in its middle; those records share the slice."""
    by_ref = {node.ref: node for node in graph.nodes}
    first = [node for node in graph.nodes if node.distance == 1]
    second = [node for node in graph.nodes if node.distance == 2]
    parent: dict[Ref, Ref] = {}
    for edge in graph.edges:
        for here, there in ((edge.source, edge.target), (edge.target, edge.source)):
            if by_ref[here].distance == 2 and by_ref[there].distance == 1:
                parent.setdefault(here, there)
    children: dict[Ref, list[Node]] = {node.ref: [] for node in first}
    orphans: list[Node] = []
    for node in second:
        if node.ref in parent:
            children[parent[node.ref]].append(node)
        else:
            orphans.append(node)
    slices: list[tuple[Node | None, list[Node]]] = [(node, children[node.ref]) for node in first]
    if orphans:
        slices.append((None, orphans))
    total = sum(max(1, len(hanging)) for _, hanging in slices) or 1
    angles: dict[Ref, float] = {}
    start = -math.pi / 2
    for owner, hanging in slices:
        width = 2 * math.pi * max(1, len(hanging)) / total
        if owner is not None:
            angles[owner.ref] = start + width / 2
        for index, child in enumerate(hanging):
            angles[child.ref] = start + width * (index + 0.5) / len(hanging)
        start += width
    return angles


def _picture(graph: Associations, purpose: str) -> Picture:
    angles = _angles(graph)
    counts = dict.fromkeys(SIZES, 0)
    for node in graph.nodes:
        counts[node.distance] += 1
    places: dict[Ref, tuple[float, float]] = {graph.start.ref: (CENTRE_X, CENTRE_Y)}
    picture = Picture()
    for node in graph.nodes:
        angle = angles.get(node.ref, 0.0)
        radius = RINGS.get(node.distance, 0.0)
        x = CENTRE_X + radius * math.cos(angle)
        y = CENTRE_Y + radius * math.sin(angle)
        places[node.ref] = (x, y)
        size = SIZES[node.distance]
        named = counts[node.distance] <= NAMED_ON_RING[node.distance]
        if node.distance == 0:
            label_x, label_y, anchor = x, y + size + 18, "middle"
        else:
            cos, sin = math.cos(angle), math.sin(angle)
            label_x = x + cos * (size + 6)
            label_y = y + sin * (size + 6) + 4 + (8 if sin > 0.5 else 0)
            anchor = "start" if cos > 0.3 else "end" if cos < -0.3 else "middle"
        css = f"assoc-node assoc-node--{node.kind}"
        if node.wanted:
            css += " assoc-node--wanted"
        if node.distance == 0:
            css += " assoc-node--start"
        picture.nodes.append(
            PictureNode(
                node=node,
                shape=_shape(node.kind, x, y, size),
                url=associations_url(node.kind, node.id, purpose),
                title=_title(node),
                css=css,
                label=_short(node.label) if named else "",
                label_x=_n(label_x),
                label_y=_n(label_y),
                anchor=anchor,
            )
        )
    labels = {node.ref: node.label for node in graph.nodes}
    show_roles = len(graph.edges) <= LABELLED_LINES
    for edge in graph.edges:
        (x1, y1), (x2, y2) = places[edge.source], places[edge.target]
        source = f" (source {edge.source_system})" if edge.source_system else ""
        picture.lines.append(
            PictureLine(
                x1=_n(x1),
                y1=_n(y1),
                x2=_n(x2),
                y2=_n(y2),
                title=f"{labels[edge.source]} — {edge.role} — {labels[edge.target]}{source}",
                role=edge.role,
                label_x=_n((x1 + x2) / 2),
                label_y=_n((y1 + y2) / 2 - 3),
                show_label=show_roles,
            )
        )
    linked = len(graph.nodes) - 1
    picture.description = (
        f"{graph.start.label} in the centre; {counts[1]} "
        f"{'record' if counts[1] == 1 else 'records'} one link out on the inner ring, "
        f"{counts[2]} two links out on the outer ring ({linked} in all). The same records "
        "are listed below the picture."
    )
    return picture


def _entries(graph: Associations, purpose: str) -> list[tuple[str, list[Entry]]]:
    """The linked records grouped by kind, each with the links that reach it from a
    record nearer the start ("via" that record when it is not the start)."""
    by_ref = {node.ref: node for node in graph.nodes}
    reaching: dict[Ref, list[Edge]] = {}
    for edge in graph.edges:
        for here, there in ((edge.source, edge.target), (edge.target, edge.source)):
            if by_ref[there].distance < by_ref[here].distance:
                reaching.setdefault(here, []).append(edge)
    groups = []
    for kind, nodes in group_by_kind(graph.linked()).items():
        entries = []
        for node in nodes:
            rows = []
            for edge in reaching.get(node.ref, []):
                other = by_ref[edge.target if edge.source == node.ref else edge.source]
                via = other if other.distance > 0 else None
                rows.append(
                    LinkRow(
                        role=edge.role,
                        source_system=edge.source_system,
                        via=via,
                        via_url=associations_url(via.kind, via.id, purpose) if via else "",
                    )
                )
            entries.append(
                Entry(
                    node=node,
                    url=associations_url(node.kind, node.id, purpose),
                    record_url=_record_url(node, purpose),
                    flags=_flags(node),
                    links=rows,
                )
            )
        groups.append((str(Kind(kind).label), entries))
    return groups


def _problem(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(
        request,
        "ciss/associations/problem.html",
        {"status": status, "message": message},
        status=status,
    )


@require_roles(*RECORD_ROLES)
@require_GET
@never_cache
def associations_view(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "").strip()
    ident = request.GET.get("id", "").strip()
    if kind not in Kind.values:
        return _problem(request, 400, BAD_KIND)
    if not ident:
        return _problem(request, 400, NO_ID)
    form = PurposeForm(request.GET if "purpose" in request.GET else None)
    if not form.is_valid():
        return render(
            request,
            "ciss/associations/purpose.html",
            {"form": form, "kind": kind, "ident": ident, "kind_name": KIND_NAMES[kind]},
            status=400 if form.is_bound else 200,
        )
    purpose = form.cleaned_data["purpose"]
    try:
        graph = associations(kind, ident, visibility=visibility_for(acting_user(request)))
    except Http404 as error:
        return _problem(request, 404, str(error))
    associations_viewed(graph, purpose=purpose, request=request)
    context: dict[str, Any] = {
        "graph": graph,
        "start": graph.start,
        "kind_name": KIND_NAMES[kind],
        "start_flags": _flags(graph.start),
        "start_record_url": _record_url(graph.start, purpose),
        "purpose_label": Purpose(purpose).label,
        "change_purpose_url": f"{request.path}?{urlencode({'kind': kind, 'id': ident})}",
        "linked_count": len(graph.linked()),
        "picture": _picture(graph, purpose),
        "groups": _entries(graph, purpose),
        "width": WIDTH,
        "height": HEIGHT,
        "kinds": [
            {"kind": value, "name": KIND_NAMES[value].capitalize(), "shape": _legend(value)}
            for value in Kind.values
        ],
    }
    return render(request, "ciss/associations/page.html", context)


def _legend(kind: str) -> Shape:
    return _shape(kind, 12, 12, 8)
