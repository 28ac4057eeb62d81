// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const text = event.detail.xhr.responseText || "Something went wrong.";
  const box = document.createElement("div");
  box.className = "message error";
  box.setAttribute("role", "alert");
  const stale = status === 409 && !text.startsWith("This plan changed");
  box.textContent = stale ? "This plan changed, reload: " + text : text;
  document.querySelector("main").prepend(box);
});

// --- The compact navigation on narrow screens: a Menu button shows and hides it. -----------
// Without JavaScript the links simply wrap (static/css/plangate.css).
document.documentElement.classList.add("js");
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-nav-toggle]");
  if (!toggle) return;
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  document.getElementById(toggle.getAttribute("aria-controls")).classList.toggle("open", open);
});

// --- Checklist answers (reviews/includes/answer_row.html) ------------------------------------
// An answer is saved when the reviewer settles on it: a click (or tap) saves at once; arrow
// keys only move the choice, which is saved when focus leaves the answers, or on Space or Enter.
// htmx swaps the row; the row's inputs keep their ids, so htmx puts focus back on the same
// control, and if that control is gone (the Confirm button) focus goes to the chosen answer.
const ANSWER_FORM = "form[data-answer-form]";
let pointerForm = null; // the answer form a pointer (mouse, touch) is pressing in
let spaceForm = null; // the answer form whose radio Space is pressed on
let lastSaved = null; // the id of the row saved last, to put focus back into after its swap

function save(form) {
  delete form.dataset.pending;
  form.dispatchEvent(new CustomEvent("pg-save", { bubbles: true }));
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest(ANSWER_FORM);
  if (form) lastSaved = form.closest("li").id; // saved by any way: pg-save, Enter, Confirm
});

document.addEventListener("pointerdown", (event) => {
  pointerForm = event.target.closest(ANSWER_FORM);
}, true);

document.addEventListener("change", (event) => {
  const form = event.target.closest(ANSWER_FORM);
  if (!form) return;
  const settled = pointerForm === form || spaceForm === form;
  pointerForm = null;
  if (event.target.type === "radio" && !settled) {
    form.dataset.pending = "1"; // moved with the arrow keys: wait until the reviewer settles
    return;
  }
  save(form); // a click or Space on an answer, or a note edited (change fires as it is left)
});

document.addEventListener("keydown", (event) => {
  const form = event.target.closest(ANSWER_FORM);
  if (!form || event.target.type !== "radio") return;
  if (event.key === " ") spaceForm = form;
  if (event.key === "Enter") {
    event.preventDefault(); // no full-page submit: save this row
    if (event.target.checked) save(form);
  }
});

document.addEventListener("keyup", (event) => {
  const form = event.target.closest(ANSWER_FORM);
  if (event.key !== " " || !form) return;
  if (form.dataset.pending) save(form); // Space on the answer the arrows moved to
  setTimeout(() => { spaceForm = null; }, 0); // after the change Space's click may fire
});

document.addEventListener("focusout", (event) => {
  const form = event.target.closest(ANSWER_FORM);
  if (!form || !form.dataset.pending) return;
  const group = event.target.closest("fieldset") || form; // the answers, or the note
  if (event.relatedTarget && group.contains(event.relatedTarget)) return; // still choosing
  save(form);
});

// A note typed while the row was being saved is not lost when the row is swapped.
let typing = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const active = document.activeElement;
  typing = active && active.name === "note" && event.detail.target.contains(active)
    ? { id: active.id, value: active.value } : null;
});

document.addEventListener("htmx:afterSettle", () => {
  if (typing) {
    const note = document.getElementById(typing.id);
    if (note && note.value !== typing.value) {
      note.value = typing.value;
      note.closest(ANSWER_FORM).dataset.pending = "1";
    }
    typing = null;
  }
  const row = lastSaved && document.getElementById(lastSaved);
  if (row && (!document.activeElement || document.activeElement === document.body)) {
    const target = row.querySelector("input[type=radio]:checked")
      || row.querySelector("input[type=radio]");
    if (target) target.focus({ preventScroll: true });
  }
});

// --- A form is posted once: a double click (or Enter pressed twice) on "Save" or "Submit" does
// not make two drafts or two decisions. GET forms (filters, search), htmx forms and posts into
// another window are left alone. The form can be sent again once the page is shown anew (the
// browser's back-forward cache), when a "Leave site?" question kept the user here
// (static/js/editor.js), and after RESEND_AFTER_MS in any case (the user stopped the load).
const RESEND_AFTER_MS = 10000;

document.addEventListener("submit", (event) => {
  const form = event.target;
  const target = (event.submitter && event.submitter.formTarget) || form.target;
  if (event.defaultPrevented || form.method !== "post" || form.matches("[hx-post]")
      || (target && target !== "_self")) return;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  setTimeout(() => { delete form.dataset.sending; }, RESEND_AFTER_MS);
});

function allowResending() {
  document.querySelectorAll("form[data-sending]").forEach((form) => {
    delete form.dataset.sending;
  });
}
window.plangateAllowResending = allowResending;
window.addEventListener("pageshow", allowResending);
