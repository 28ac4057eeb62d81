// The plan editor's unsaved-changes warning (plans/templates/plans/plan_form.html).
// Typing in the form, or adding/removing/moving a step (an htmx swap of #steps), marks it
// changed; leaving the page then asks first (the browser's own "Leave site?" dialog). Saving
// the form, by any of its submit buttons, is not leaving. No inline code: the CSP allows none.
(function () {
  "use strict";

  function watch(form) {
    // A page that comes back from the server with what was typed (a form error, a no-JS step
    // button) holds unsaved text from the start.
    var changed = form.getAttribute("data-unsaved") === "true";
    function mark() { changed = true; form.setAttribute("data-unsaved", "true"); }
    form.addEventListener("input", mark);
    form.addEventListener("change", mark);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (form.contains(event.target)) { mark(); }
    });
    form.addEventListener("submit", function () {
      changed = false;
      form.removeAttribute("data-unsaved");
    });
    window.addEventListener("beforeunload", function (event) {
      if (!changed) { return undefined; }
      // Should the user stay, the form they sent (Log out, say) can be sent again.
      if (window.plangateAllowResending) { window.plangateAllowResending(); }
      event.preventDefault();
      event.returnValue = "";  // older browsers need a value to show the dialog
      return "";
    });
  }

  function init() {
    var forms = document.querySelectorAll("form[data-unsaved-warning]");
    for (var i = 0; i < forms.length; i++) { watch(forms[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
