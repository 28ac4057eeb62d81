"""The pages the bench times: a registry, name → how to build the URL and who views it.

Other apps' pages are added here as one entry each (an app's pages are listed where the bench
can see them; the bench is the top layer, so it may import anything). An entry whose URL name
does not resolve (an app not installed yet) is skipped with a note in the report.

``args`` gets the seeded dataset (bench/dataset.py ``Fixtures``): its attributes name the plans
and reviews the bench built for the purpose, e.g. ``plan_small`` (1 step), ``plan_large``
(50 steps), ``review_small`` / ``review_large`` (a plan with 1 / 20 reviews), ``plan_diff``
(two revisions), ``plan_approved``. ``user`` is one of the dataset's users: "author",
"reviewer", "admin" (group Admins, staff) or "superuser".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    url_name: str
    user: str = "author"
    args: Callable = field(default=lambda d: ())
    query: str = ""  # appended after "?", e.g. "q=rate"


PAGES: dict[str, Page] = {
    "plan_list": Page("plans:list"),
    "plan_detail_1_step": Page("plans:detail", args=lambda d: (d.plan_small,)),
    "plan_detail_50_steps": Page("plans:detail", args=lambda d: (d.plan_large,)),
    "review_1_review": Page("reviews:review", "reviewer", lambda d: (d.review_small,)),
    "review_20_reviews": Page("reviews:review", "reviewer", lambda d: (d.review_large,)),
    "revision_diff": Page("plans:diff", args=lambda d: (d.plan_diff,)),
    "conversation": Page("reviews:comments", args=lambda d: (d.plan_diff,)),
    "inbox": Page("notifications:inbox", "reviewer"),
    "audit_list": Page("audit:list", "admin"),
    "certificate": Page("reviews:certificate", args=lambda d: (d.plan_approved,)),
    "admin_plan_changelist": Page("admin:plans_plan_changelist", "superuser"),
    # insights (dashboards, search, insights): one entry per page and role
    "dashboard_author": Page("insights:dashboard", "author"),
    "dashboard_reviewer": Page("insights:dashboard", "reviewer"),
    "dashboard_admin": Page("insights:dashboard", "admin"),
    "search": Page("insights:search", "reviewer", query="q=rate"),
    "insights": Page("insights:insights", "admin"),
}
