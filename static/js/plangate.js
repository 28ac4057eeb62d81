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
