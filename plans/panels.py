"""The plan page's panels that apps above plans contribute (the workflow diagram, the review
panel, the policy preview, the implementation panel).

plans may not import those apps, so each registers its panel in its AppConfig.ready() and the
plan page (plans/views.py plan_detail) renders whatever is registered, in order:

    panels.register("review", order=10, render=review_panel_html)

A panel is ``render(request, plan, shared) -> str``: safe HTML (render_to_string of its partial,
which escapes), or "" to show nothing. ``shared`` is one dict per page view: what more than one
panel reads (the active review policy, say) is loaded once and kept there, under a key named
after the app that loads it. A panel that reads shared cache entries may name them
(``cache_keys(plan) -> [key, ...]``): the plan page reads them in the same round trip as its own
(core.cache.read_ahead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

TOP = "top"  # above the page's two columns (the workflow diagram)
SIDE = "side"  # the side column, beside the document (on a phone: above it)
PLACES = (TOP, SIDE)


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    render: Callable
    place: str = SIDE
    cache_keys: Callable | None = None


_PANELS: dict[str, Panel] = {}


def register(name: str, *, order: int, render: Callable, place: str = SIDE,
             cache_keys: Callable | None = None) -> None:
    """Add (or, under the same name, replace) a panel of the plan page."""
    if place not in PLACES:
        raise ValueError(f"A panel goes in one of {PLACES}, not {place!r}.")
    _PANELS[name] = Panel(name=name, order=order, render=render, place=place,
                          cache_keys=cache_keys)


def registered() -> list[Panel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.name))


def cache_keys(plan) -> list[str]:
    """The shared cache entries the registered panels will read for ``plan``."""
    return [key for panel in registered() if panel.cache_keys for key in panel.cache_keys(plan)]


def render_panels(request, plan, shared: dict | None = None) -> dict[str, list[str]]:
    """{place: [html of each panel there, in order]}; panels that show nothing are left out."""
    shared = {} if shared is None else shared
    placed: dict[str, list[str]] = {place: [] for place in PLACES}
    for panel in registered():
        html = panel.render(request, plan, shared)
        if html and html.strip():
            placed[panel.place].append(html)
    return placed
