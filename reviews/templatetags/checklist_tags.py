"""The review page's checklist rows (reviews/includes/answer_row.html), written out in Python.

Fifteen rows of a dozen template variables each cost the review page more than its queries; the
markup is the same for every row, so it is built here with str.format, every value escaped
(html.escape: what Django's escape does).
Names, ids and labels are the ones the answer form (reviews/forms.py AnswerForm, validated on
POST by reviews.views.review_answer) and static/js/plangate.js expect.
"""

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

register = template.Library()

#: The choices as the rows show them (reviews.models.Answer's values).
CHOICES = (("yes", "Yes"), ("no", "No"), ("na", "N/A"))

_FORM = """
<li class="check-item{classes}" id="item-{id}">
  <form method="post" action="{url}" data-answer-form
        hx-post="{url}" hx-trigger="submit, pg-save"
        hx-target="#item-{id}" hx-swap="outerHTML" hx-sync="this:queue last">
    {csrf}
    <input type="hidden" name="item" value="{id}">
    <input type="hidden" name="revision" value="{revision}">
    <fieldset class="check-choices">
      <legend class="check-text">{text}</legend>
      {choices}
    </fieldset>
    <span class="check-note"><label for="note-{id}">Note</label>
    <input type="text" name="note" id="note-{id}" value="{note}" placeholder="optional" maxlength="5000"></span>
    {carried}
    <noscript><button type="submit">Save</button></noscript>
    <span class="saved" role="status">{saved}</span>
  </form>
</li>"""  # noqa: E501 - the note's input, on one line as before

_READ = """
<li class="check-item{classes}" id="item-{id}">
  <span class="check-text">{text}</span>
  <strong class="answer-{answer}">{label}</strong>
  {note}
  {carried}
</li>"""

#: One choice: value, " checked" or "", item id, label.
_CHOICE = ('<input type="radio" name="answer" value="{0}"{1} id="answer-{2}-{0}">'
           '<label for="answer-{2}-{0}">{3}</label>')


def _csrf(context) -> str:
    """What {% csrf_token %} writes (the same masked token for the whole request)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(token))}">'


def carried(answer) -> str:
    """Where a carried-over answer came from ("From revision 1, unchanged section"), and
    whether the reviewer confirmed it on this revision (escaped HTML)."""
    open_ = answer.needs_confirmation
    where = getattr(answer, "carried_label", "")
    return '<span class="carried{}" data-carried>{} · {}</span>'.format(
        " carried-open" if open_ else "",
        escape(capfirst(where) if where else f"From revision {answer.carried_from.number}"),
        "<strong>not yet confirmed</strong>" if open_ else "confirmed")


def _row(item, answer, *, url: str, csrf: str, revision: str, saved: bool) -> str:
    """One row's HTML; every value from the database is escaped here, once."""
    id_ = str(item.pk)
    value = answer.answer if answer is not None else ""
    classes = (" check-no" if value == "no" else "") + (
        " check-carried" if answer is not None and answer.needs_confirmation else "")
    carried_html = carried(answer) if answer is not None and answer.carried_from_id else ""
    if url:
        if answer is not None and answer.carried_from_id and answer.needs_confirmation:
            carried_html += (f' <button type="submit" name="confirm" value="1" class="confirm" '
                             f'id="confirm-{id_}">Confirm</button>')
        choices = "\n      ".join(
            _CHOICE.format(v, " checked" if v == value else "", id_, label)
            for v, label in CHOICES)
        return _FORM.format(
            classes=classes, id=id_, url=url, csrf=csrf, revision=revision,
            text=escape(item.text), choices=choices,
            note=escape(answer.note) if answer is not None and answer.note else "",
            carried=carried_html, saved="Saved" if saved else "")
    note = answer.note if answer is not None else ""
    return _READ.format(
        classes=classes, id=id_,
        text=escape(answer.item_text if answer is not None else item.text),
        answer=escape(value or "none"),
        label=escape(answer.get_answer_display()) if answer is not None else "not answered",
        note=f'<span class="answer-note"> — {escape(note)}</span>' if note else "",
        carried=carried_html)


@register.simple_tag(takes_context=True)
def answer_rows(context, rows, review, can_answer, revision, saved=False) -> SafeString:
    """One <li> per (item, answer or None) of ``rows``: a form that saves the answer while
    ``can_answer``, else the answer and its note."""
    url = escape(reverse("reviews:answer", args=[review.pk])) if can_answer else ""
    csrf = _csrf(context) if can_answer else ""
    return mark_safe("".join(  # noqa: S308 - _row escapes every value
        _row(item, answer, url=url, csrf=csrf, revision=escape(str(revision)), saved=saved)
        for item, answer in rows))
