"""Pages whose rows bring their own count (the plan list, search): which page was asked for."""

#: No list here has this many pages: a larger number is read as "past the end", as
#: Paginator.get_page reads it, before it becomes an offset the database refuses.
MAX_PAGE = 10**6


def page_asked(number) -> int | None:
    """The page ``number`` (a query parameter) names, read as Paginator.get_page reads it: not
    a number, or none, is page 1; None when it can only be the last page (below 1, or beyond
    MAX_PAGE): let get_page count and find it."""
    try:
        wanted = int(number) if number not in (None, "") else 1
    except (TypeError, ValueError):
        return 1
    return wanted if 1 <= wanted <= MAX_PAGE else None
