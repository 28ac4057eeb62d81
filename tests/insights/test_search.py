"""Search across plans, steps, comments and concerns: full text on PostgreSQL, contains-search on
SQLite; ranked, highlighted, filtered, sortable; the index follows every change on commit."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights.indexing import _Refresh
from insights.models import SearchDocument
from insights.search import weighted_vector
from insights.views import result_rows_html
from plans.models import Plan, PlanStep
from reviews import services
from tests.factories import AuthorFactory, PlanStepFactory, ready_plan
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(author, reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        in_step = ready_plan(author=author, title="Export metrics")
        PlanStepFactory(plan=in_step, position=1, title="Exporter",
                        objective="Configure the flamingo exporter behind a flag")
        in_comment = submitted_plan(author, title="Cache sessions")
        services.comment_post(actor=reviewer, plan=in_comment,
                              body="What happens to the pelican <script>alert(1)</script> cache?")
        in_title = ready_plan(author=AuthorFactory(username="bob"), title="Pelican rollout")
        in_concern = submitted_plan(author, title="Rotate keys")
        services.concern_raise(actor=reviewer, plan=in_concern, title="Walrus keys leak",
                               body="The walrus file is world-readable.")
    return {"step": in_step, "comment": in_comment, "title": in_title, "concern": in_concern}


def results(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("insights:search"), params)
    assert response.status_code == 200
    return response, response.context["rows"]


def check_finds_by_step_and_comment_ranked(client, corpus, author):
    _, rows = results(client, author, q="flamingo")
    assert [p.pk for p in rows] == [corpus["step"].pk]
    assert [m.kind for m in rows[0].matches] == ["content"]
    assert "<mark>flamingo</mark>" in str(rows[0].matches[0].html)

    response, rows = results(client, author, q="pelican")
    assert [p.pk for p in rows] == [corpus["title"].pk, corpus["comment"].pk]  # title first
    assert rows[0].rank > rows[1].rank
    html = response.content.decode()
    assert "<mark>Pelican</mark> rollout" in html
    assert "<script>alert" not in html  # the comment's text is escaped (or dropped by PG)
    assert "<mark>pelican</mark>" in str(rows[1].matches[0].html)

    _, rows = results(client, author, q="walrus")
    assert [p.pk for p in rows] == [corpus["concern"].pk]
    assert rows[0].matches[0].kind == "discussion"


def test_contains_search_finds_steps_comments_and_concerns_ranked(client, corpus, author):
    check_finds_by_step_and_comment_ranked(client, corpus, author)


@pytest.mark.usefixtures("require_postgres")
def test_full_text_search_on_postgresql(client, corpus, author):
    """Weighted tsvector: A title, B steps, C comments and concerns; stemmed queries."""
    check_finds_by_step_and_comment_ranked(client, corpus, author)
    _, rows = results(client, author, q="flamingos exporters")  # stemmed, both words
    assert [p.pk for p in rows] == [corpus["step"].pk]
    _, rows = results(client, author, q="pelican -rollout")  # websearch syntax
    assert [p.pk for p in rows] == [corpus["comment"].pk]
    assert SearchDocument.objects.filter(vector__isnull=False).count() == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s",
                       ["insights_searchdocument"])
        assert any("USING gin (vector)" in row[0] for row in cursor.fetchall())


def test_the_document_follows_edits_and_deletes(corpus, author, django_capture_on_commit_callbacks):
    plan = corpus["step"]
    with django_capture_on_commit_callbacks(execute=True):
        PlanStep.objects.filter(plan=plan, position=1).get().delete()
    assert "flamingo" not in SearchDocument.objects.get(plan=plan).content
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        step = PlanStepFactory(plan=plan, position=2, objective="Feed the ibis")
        step.title = "Renamed"
        step.save()
    assert len([cb for cb in callbacks if isinstance(cb, _Refresh)]) == 1  # two saves: one rebuild
    assert "ibis" in SearchDocument.objects.get(plan=plan).content


def test_reindex_builds_documents_for_bulk_loaded_plans(author):
    Plan.objects.bulk_create([Plan(title="Bulk heron", author=author)])
    assert not SearchDocument.objects.exists()
    call_command("search_reindex")
    assert SearchDocument.objects.get().title == "Bulk heron"


def test_filters_and_sorting(client, corpus, author, reviewer):
    _, rows = results(client, author, state="PENDING_REVIEW")
    assert {p.pk for p in rows} == {corpus["comment"].pk, corpus["concern"].pk}
    _, rows = results(client, author, author="bob")
    assert [p.pk for p in rows] == [corpus["title"].pk]
    _, rows = results(client, author, sort="title")
    assert [p.title for p in rows] == sorted(p.title for p in rows)
    _, rows = results(client, author, sort="-title")
    assert [p.title for p in rows] == sorted((p.title for p in rows), reverse=True)
    _, rows = results(client, author, date_from="2000-01-01", date_to="2000-01-02")
    assert rows == []
    _, rows = results(client, author, risk="low")
    assert corpus["step"].pk in {p.pk for p in rows}
    services.review_start(actor=reviewer, plan=corpus["concern"])
    _, rows = results(client, author, reviewer=reviewer.username)
    assert [p.pk for p in rows] == [corpus["concern"].pk]


def test_titles_and_matches_are_escaped(client, author, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        plan = ready_plan(author=author, title='<img src=x onerror="alert(1)"> Osprey plan')
        services.comment_post(actor=author, plan=plan, body="osprey <b onmouseover=x>bold</b>")
    response, rows = results(client, author, q="osprey")
    html = response.content.decode()
    assert [p.pk for p in rows] == [plan.pk]
    assert "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>Osprey</mark> plan" in html


def test_bad_filters_are_a_400_not_a_500(client, author):
    client.force_login(author)
    assert client.get(reverse("insights:search"), {"state": "NOPE"}).status_code == 400
    assert client.get(reverse("insights:search"), {"sort": "password"}).status_code == 400
    assert client.get(reverse("insights:search"), {"date_from": "x"}).status_code == 400
    assert client.get(reverse("insights:search"), {"date_to": "9999-12-31"}).status_code == 400


def test_search_query_count_does_not_grow(client, author, corpus, django_assert_num_queries):
    def bulk(count):
        plans = Plan.objects.bulk_create(Plan(title=f"Bulk plan {i}", author=author)
                                         for i in range(count))
        SearchDocument.objects.bulk_create(SearchDocument(plan=p, title=p.title,
                                                          discussion="a bulk comment")
                                           for p in plans)
        if connection.vendor == "postgresql":
            SearchDocument.objects.update(vector=weighted_vector())

    client.force_login(author)
    url = reverse("insights:search")
    bulk(10)
    with CaptureQueriesContext(connection) as first:
        client.get(url, {"q": "bulk"})
    with CaptureQueriesContext(connection) as small:  # the filters' choices are cached
        client.get(url, {"q": "bulk", "page": "1"})  # (a result page not seen yet)
    assert len(small) == len(first) - 3  # and so is the unread badge
    assert not any("COUNT(*) AS" in q["sql"] for q in small)  # counted with the page's rows
    with CaptureQueriesContext(connection) as again:
        client.get(url, {"q": "bulk", "page": "1"})
    assert len(again) == len(small) - 3  # ranked and counted, highlighted, read: kept
    bulk(290)
    with django_assert_num_queries(len(small)):
        response = client.get(url, {"q": "bulk", "page": "2"})
    assert len(response.context["rows"]) == 25
    with django_assert_num_queries(len(again)):
        client.get(url, {"q": "bulk", "page": "2"})


def test_a_text_search_pages_as_before(client, author):
    """The matches are counted with the page's rows (one query): page numbers past the end, below
    one or not numbers land where the paginator always put them."""
    plans = Plan.objects.bulk_create(Plan(title=f"Paged plan {i}", author=author)
                                     for i in range(30))
    SearchDocument.objects.bulk_create(SearchDocument(plan=p, title=p.title) for p in plans)
    if connection.vendor == "postgresql":
        SearchDocument.objects.update(vector=weighted_vector())
    client.force_login(author)

    def page(number):
        response = client.get(reverse("insights:search"), {"q": "paged", "page": number,
                                                           "sort": "title"})
        page = response.context["page"]
        return page.number, page.paginator.count, [p.title for p in response.context["rows"]]

    titles = sorted(p.title for p in plans)
    assert page(1) == (1, 30, titles[:25])
    assert page(2) == (2, 30, titles[25:])
    assert page(3) == page(0) == page(-1) == (2, 30, titles[25:])  # the last page
    assert page(10**20) == (2, 30, titles[25:])  # no offset the database refuses: a 500
    assert page("x") == page("2.5") == (1, 30, titles[:25])


# (data-plan unlocalised: an id is no number to show, "4,888" with thousand separators on.)
FORMER_ROWS = """{% load l10n %}{% for plan in rows %}
    <tr data-plan="{{ plan.pk|unlocalize }}">
      <td><a href="{{ plan.get_absolute_url }}">{{ plan.title_html }}</a>
        {% for m in plan.matches %}<div class="search-match"><span class="muted">{% if m.kind == "content" %}In the plan:{% else %}In the discussion:{% endif %}</span> {{ m.html }}</div>{% endfor %}
      </td>
      <td><span class="status status-{{ plan.status }}">{{ plan.get_status_display }}</span></td>
      <td>{{ plan.author|display_name }}</td>
      <td>{% if plan.highest_risk_value %}<span class="risk-{{ plan.highest_risk_value }}">{{ plan.highest_risk_value|capfirst }}</span>{% else %}<span class="muted">—</span>{% endif %}</td>
      <td><time datetime="{{ plan.updated_at|date:'c' }}">{{ plan.updated_at|date:"Y-m-d H:i" }}</time></td>
      {% if text %}<td>{{ plan.rank|floatformat:3 }}</td>{% endif %}
    </tr>
  {% empty %}
    <tr><td colspan="6" class="muted">No plans match.</td></tr>
  {% endfor %}"""  # noqa: E501 - the template rows the view's rows replaced


@pytest.mark.parametrize("q", ["pelican", "", "nothing-matches-this"])
def test_the_result_rows_are_the_former_template_rows(client, corpus, author, q, settings):
    settings.TIME_ZONE = "Europe/Paris"  # shown in the current time zone, as the filter did
    settings.USE_THOUSAND_SEPARATOR = True
    PlanStepFactory(plan=corpus["title"], position=2, title="Risky", risk="high")
    _, rows = results(client, author, q=q)
    former = engines["django"].from_string(FORMER_ROWS).render({"rows": rows, "text": q})
    assert " ".join(str(result_rows_html(rows, q)).split()) == " ".join(former.split())
    assert q != "pelican" or "<mark>" in former
