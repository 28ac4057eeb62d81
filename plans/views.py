from django.shortcuts import get_object_or_404, render

from .models import Plan


def plan_list(request):
    plans = Plan.objects.select_related("author")[:50]
    return render(request, "plans/plan_list.html", {"plans": plans})


def plan_detail(request, pk: int):
    plan = get_object_or_404(Plan, pk=pk)
    return render(request, "plans/plan_detail.html", {"plan": plan})
