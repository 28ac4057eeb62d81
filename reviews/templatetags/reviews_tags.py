from django import template

register = template.Library()


@register.inclusion_tag("reviews/includes/review_panel.html", takes_context=True)
def review_panel(context, plan):
    """The review side of a plan page: state, whose turn it is, what is missing, actions."""
    return {"plan": plan, "user": context["user"], "request": context.get("request")}
