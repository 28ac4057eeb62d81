"""An imported plan keeps every byte of its text: a BOM, CRLF, CR and mixed line endings come
back in its export as they went in, through every way in (a file in the browser, the API, the
import command, a plan started from another); its revision is hashed over the text with LF
line endings and no BOM, so a checkout that converts line endings verifies the same."""

import hashlib
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from implementation import services as implementation
from plans import services
from plans.markdown import export_plan
from plans.models import Plan
from tests.implementation.kit import AMENDED, approved_plan
from tests.plans.test_plan_export_edits import changed_lines, edit

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"
TEMPLATE_TEXT = (CORPUS / "01-template-exact.md").read_text()


def with_endings(text: str, endings: list[str], bom: bool = False) -> str:
    """``text`` (LF) with its n-th line ending ``endings[n % len(endings)]``."""
    lines = text.split("\n")
    out = "".join(line + endings[n % len(endings)] for n, line in enumerate(lines[:-1]))
    return ("\ufeff" if bom else "") + out + lines[-1]


def lf(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def exported(plan) -> str:
    return export_plan(Plan.objects.get(pk=plan.pk))


_line = st.text(st.sampled_from("ab #-*[]|`:1 \t"), max_size=12)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(_line, st.sampled_from(["\n", "\r\n", "\r"])), max_size=25),
       last=_line, bom=st.booleans())
def test_any_line_endings_and_a_bom_export_back_as_imported(author, lines, last, bom):
    text = ("\ufeff" if bom else "") + "".join(a + b for a, b in lines) + last
    assume(text.lstrip("\ufeff").strip())  # only blank lines: no plan, refused
    plan = services.plan_import_markdown(actor=author, text=text.encode())
    assert exported(plan) == text
    content, content_hash = services.revision_snapshot(Plan.objects.get(pk=plan.pk))
    assert content == lf(text)
    assert content_hash == hashlib.sha256(lf(text).encode()).hexdigest()
    assert content_hash == services.text_revision_hash(text)


@pytest.mark.parametrize("endings", [["\r\n"], ["\r"], ["\r\n", "\n", "\r"]])
def test_an_edit_in_the_editor_changes_only_its_line_and_keeps_the_rest_s_bytes(
    author_client, author, endings
):
    text = with_endings(TEMPLATE_TEXT, endings, bom=True)
    plan = services.plan_import_markdown(actor=author, text=text)
    edit(author_client, plan, **{"steps-1-estimate": "5 hours"})
    after = exported(plan)
    assert after.startswith("\ufeff")
    assert changed_lines(lf(text), lf(after)) == ["-**Estimated Time**: 4 hours",
                                                  "+**Estimated Time**: 5 hours"]
    # Every line keeps its own ending, the edited one too (only its value was rewritten).
    before_lines, after_lines = text.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(before_lines) == len(after_lines)
    differing = [(a, b) for a, b in zip(before_lines, after_lines, strict=True) if a != b]
    assert len(differing) == 1
    (old, new), = differing
    assert "5 hours" in new and new[len(new.rstrip("\r\n")):] == old[len(old.rstrip("\r\n")):]


def test_an_unchanged_save_in_the_editor_keeps_every_byte(author_client, author):
    text = with_endings(TEMPLATE_TEXT, ["\r\n"], bom=True)
    plan = services.plan_import_markdown(actor=author, text=text)
    edit(author_client, plan)
    assert exported(plan) == text


def test_a_file_imported_in_the_browser_keeps_its_bytes_a_pasted_text_its_lines(
    author_client, author
):
    raw = with_endings(TEMPLATE_TEXT, ["\r\n"], bom=True).encode()
    response = author_client.post(reverse("plans:import"), {
        "file": SimpleUploadedFile("plan.md", raw, content_type="text/markdown")})
    assert response.status_code == 302
    from_file = Plan.objects.get(author=author)
    assert exported(from_file).encode() == raw
    download = author_client.get(reverse("plans:export", args=[from_file.pk]))
    assert b"".join(download.streaming_content if download.streaming else [download.content]) \
        == raw
    # A textarea always sends CRLF (the browser's, not the author's): a pasted plan is LF.
    pasted_text = TEMPLATE_TEXT + "\nPasted.\n"
    author_client.post(reverse("plans:import"), {"text": with_endings(pasted_text, ["\r\n"])})
    pasted = Plan.objects.exclude(pk=from_file.pk).get(author=author)
    assert exported(pasted) == pasted_text


def test_the_import_and_export_commands_keep_the_bytes(author, tmp_path):
    path = tmp_path / "plan.md"
    path.write_bytes(with_endings(TEMPLATE_TEXT, ["\r"], bom=True).encode())
    out = StringIO()
    call_command("plan_import", "--author", author.username, str(path), stdout=out)
    imported_id = out.getvalue().split("\t")[0]
    out = StringIO()
    call_command("plan_export", imported_id, stdout=out)
    assert out.getvalue().encode() == path.read_bytes()


def test_a_plan_started_from_an_imported_one_keeps_its_bytes(author):
    text = with_endings(TEMPLATE_TEXT, ["\r\n"], bom=True)
    plan = services.plan_import_markdown(actor=author, text=text)
    copy = services.plan_start_from(actor=author, plan=plan)
    assert exported(copy) == text


def test_removed_and_added_lines_keep_the_rest_s_endings(author_client, author):
    text = with_endings(TEMPLATE_TEXT, ["\r\n", "\n"])
    plan = services.plan_import_markdown(actor=author, text=text)
    plan = Plan.objects.get(pk=plan.pk)
    criteria = [(c.text, c.done) for c in plan.success_criteria.all()]
    services.plan_update(actor=author, plan=plan,
                         success_criteria=[*criteria[1:], ("New one", False)])
    after = exported(plan)
    assert "New one" in after and criteria[0][0] not in after
    # The lines in place keep their endings, in order (the criteria are rewritten in place).
    def endings(lines):
        return [line[len(line.rstrip("\r\n")):] for line in lines.splitlines(keepends=True)]
    assert endings(after) == endings(text)
    assert lf(after) == lf(text).replace(f"- [ ] {criteria[0][0]}\n", "").replace(
        f"- [ ] {criteria[1][0]}\n", f"- [ ] {criteria[1][0]}\n- [ ] New one\n")


def test_a_large_crlf_plan_exports_back_whole(author):
    # Many identical lines (blank ones, fences): the export maps each edit's place, it does
    # not diff the lines (which took seconds for a few thousand of them).
    text = with_endings(TEMPLATE_TEXT + "\n" * 20_000 + "```\n\n```\n" * 2_000, ["\r\n"])
    plan = services.plan_import_markdown(actor=author, text=text)
    assert exported(plan) == text


def _upload(client, raw: bytes):
    return client.post(reverse("plans:import"), {"file": SimpleUploadedFile("plan.md", raw)})


def test_the_same_text_with_other_line_endings_is_recognised_as_already_imported(
    author_client, author
):
    services.plan_import_markdown(actor=author, text=TEMPLATE_TEXT)  # LF, as pasted
    response = _upload(author_client, with_endings(TEMPLATE_TEXT, ["\r\n"], bom=True).encode())
    assert response.status_code == 200 and b"You already imported this text" in response.content
    assert Plan.objects.filter(author=author).count() == 1


@pytest.mark.parametrize("answer", ["new", "update"])
def test_a_file_asked_about_once_is_imported_as_it_was(author_client, author, answer):
    raw = with_endings(TEMPLATE_TEXT, ["\r\n"], bom=True).encode()
    first = services.plan_import_markdown(actor=author, text=TEMPLATE_TEXT)
    asked = _upload(author_client, raw)
    kept = re.search(r'name="kept" value="([^"]+)"', asked.content.decode()).group(1)
    assert 'name="text"' not in asked.content.decode()  # the file is kept, not a text box
    post = {"kept": kept, "on_duplicate": answer}
    url = reverse("plans:import") + (f"?existing={first.pk}" if answer == "update" else "")
    assert author_client.post(url, post).status_code == 302
    plan = Plan.objects.get(pk=first.pk) if answer == "update" else (
        Plan.objects.exclude(pk=first.pk).get(author=author))
    assert exported(plan).encode() == raw


def test_a_damaged_kept_file_is_a_form_error(author_client):
    response = author_client.post(reverse("plans:import"), {"kept": "not base64!",
                                                            "on_duplicate": "new"})
    assert response.status_code == 400 and b"choose it again" in response.content


def test_an_amendment_keeps_its_bytes_too(author, reviewer):
    plan = approved_plan(author, reviewer)
    implementation.implementation_start(actor=author, plan=plan)
    amended = with_endings(AMENDED, ["\r\n"], bom=True)
    implementation.amendment_submit(actor=author, plan=plan, text=amended)
    assert exported(plan) == amended


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_the_sources_of_plans_imported_before_it(author):
    before, after = ("plans", "0010_plan_source_as_given"), ("plans", "0011_plan_source_sha256")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old_plan = executor.loader.project_state(before).apps.get_model("plans", "Plan")
    text = with_endings(TEMPLATE_TEXT, ["\r\n"], bom=True)
    imported = old_plan.objects.create(author_id=author.pk, source=text).pk
    by_hand = old_plan.objects.create(author_id=author.pk).pk
    executor = MigrationExecutor(connection)
    executor.migrate([after])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    hashes = dict(Plan.objects.values_list("pk", "source_sha256"))
    assert hashes[imported] == services.text_revision_hash(text)
    assert hashes[by_hand] == ""
