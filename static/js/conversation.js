/* The conversation page (reviews/conversation.html): choose lines of the revision to comment on,
 * as in a pull request. A line number starts a selection, Shift with another one (click, Enter,
 * or Shift+Arrow keys on a line number, then Enter to write) extends it; selecting text does the
 * same. The new-comment form then moves under the selected lines with their numbers filled in. Without this file the
 * line links fill the same form in from the URL (progressive enhancement). */
(function () {
  "use strict";
  var doc = document.getElementById("cv-document");
  var box = document.getElementById("new-comment");
  var form = document.getElementById("cv-form");
  if (!doc || !box || !form) { return; }
  var home = box.parentNode;
  var homeNext = box.nextSibling;
  var fields = form.elements;
  var label = document.getElementById("cv-selected");
  var cancel = document.getElementById("cv-cancel");
  var blocks = Array.prototype.slice.call(doc.querySelectorAll(".cv-block"));
  var start = null;
  var end = null;

  function blockOf(node) {
    while (node && node !== doc) {
      if (node.classList && node.classList.contains("cv-block")) { return node; }
      node = node.parentNode;
    }
    return null;
  }

  function afterThreads(block) {
    var node = block;
    while (node.nextElementSibling && node.nextElementSibling.classList.contains("cv-thread")) {
      node = node.nextElementSibling;
    }
    return node;
  }

  function describe(lo, hi, block) {
    var where = lo === hi ? "line " + lo : "lines " + lo + "–" + hi;
    if (block.dataset.step) { where += " (step " + block.dataset.step + ")"; }
    else if (block.dataset.section) { where += " (" + block.dataset.section + ")"; }
    return "Commenting on " + where + ". Press Escape or Cancel to stop.";
  }

  function select(first, last, focusForm) {
    start = first;
    end = last;
    var lo = Math.min(+first.dataset.from, +last.dataset.from);
    var hi = Math.max(+first.dataset.to, +last.dataset.to);
    var bottom = first;
    blocks.forEach(function (block) {
      var inside = +block.dataset.from >= lo && +block.dataset.to <= hi;
      block.classList.toggle("is-selected", inside);
      if (inside) { bottom = block; }
    });
    fields.line_from.value = lo;
    fields.line_to.value = hi;
    fields.step.value = "";
    fields.section.value = "";
    label.textContent = describe(lo, hi, first);
    label.hidden = false;
    cancel.hidden = false;
    var anchor = afterThreads(bottom);
    if (anchor.nextSibling !== box) { anchor.parentNode.insertBefore(box, anchor.nextSibling); }
    box.classList.add("is-inline");
    if (focusForm) { fields.body.focus(); }
  }

  function reset() {
    var back = start;
    blocks.forEach(function (block) { block.classList.remove("is-selected"); });
    fields.line_from.value = "";
    fields.line_to.value = "";
    label.hidden = true;
    cancel.hidden = true;
    start = end = null;
    home.insertBefore(box, homeNext);
    box.classList.remove("is-inline");
    if (back) { back.querySelector(".cv-lines").focus(); }
  }

  doc.addEventListener("click", function (event) {
    var link = event.target.closest(".cv-lines");
    if (!link) { return; }
    event.preventDefault();
    var block = blockOf(link);
    if (event.detail === 0 && start && block === end) {
      fields.body.focus();  // Enter on the end of a selection made with Shift+Arrow: write
      return;
    }
    if (event.shiftKey && start) { select(start, block, true); }
    else { select(block, block, true); }
  });

  doc.addEventListener("keydown", function (event) {
    var link = event.target.closest && event.target.closest(".cv-lines");
    if (!link || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) { return; }
    var index = blocks.indexOf(blockOf(link)) + (event.key === "ArrowDown" ? 1 : -1);
    var next = blocks[index];
    if (!next) { return; }
    event.preventDefault();
    if (event.shiftKey) { select(start || blockOf(link), next, false); }
    next.querySelector(".cv-lines").focus();
  });

  doc.addEventListener("mouseup", function () {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed) { return; }
    var first = blockOf(selection.anchorNode);
    var last = blockOf(selection.focusNode);
    if (first && last) { select(first, last, false); }
  });

  cancel.addEventListener("click", function () { reset(); });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && start) { event.preventDefault(); reset(); }
  });
  ["step", "section"].forEach(function (name) {
    fields[name].addEventListener("change", function () {
      if (!fields[name].value) { return; }
      // A step or section instead of lines: forget the lines, leave the form where it is.
      blocks.forEach(function (block) { block.classList.remove("is-selected"); });
      fields.line_from.value = "";
      fields.line_to.value = "";
      label.hidden = true;
    });
  });
}());
