// Every page's forms. A button or form marked data-confirm asks first (the
// steps nobody can take back: returning, rejecting, withdrawing); a form
// already sent is not sent again by a second click while its answer loads,
// so a double click makes one request. Going back to the page (the
// browser's cache keeps it as it was) lets its forms be sent again.
document.addEventListener("submit", (e) => {
  const form = e.target;
  const question = (e.submitter && e.submitter.dataset.confirm) || form.dataset.confirm;
  if (question && !window.confirm(question)) {
    e.preventDefault();
    e.stopImmediatePropagation();
  }
}, true);

document.addEventListener("submit", (e) => {
  // A form whose own script sends it (the upload) prevented the default
  // already: it is that script's to guard.
  if (e.defaultPrevented) return;
  const form = e.target;
  if (form.dataset.sent === "1") {
    e.preventDefault();
    return;
  }
  form.dataset.sent = "1";
});

window.addEventListener("pageshow", () => {
  for (const f of document.querySelectorAll("form[data-sent]")) delete f.dataset.sent;
});

// A refused form comes back with an error summary above the page's
// content: the page opens with the focus on it, so whoever works with the
// keyboard or a screen reader hears first what went wrong, and the next
// Tab goes on to the form. The fields the summary names describe
// themselves by it (aria-describedby).
const errorSummary = document.getElementById("error-summary");
if (errorSummary) {
  errorSummary.focus();
  for (const f of document.querySelectorAll("main form [aria-invalid=true]")) {
    const ids = (f.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (!ids.includes("error-summary")) f.setAttribute("aria-describedby", ids.concat("error-summary").join(" "));
  }
  // The summary's link to a field takes the focus there (an in-page
  // link alone only scrolls), as GOV.UK's summaries do.
  errorSummary.addEventListener("click", (e) => {
    const a = e.target.closest("a[href^='#']");
    const field = a && document.getElementById(decodeURIComponent(a.hash.slice(1)));
    if (!field) return;
    e.preventDefault();
    field.focus();
    field.scrollIntoView({ block: "center" });
  });
}

// A panel htmx fills in place (the signature panel, the copies panel)
// must not drop the focus of someone who had tabbed into it: the focus
// goes to the panel's heading instead of the page's start.
document.addEventListener("htmx:beforeSwap", (e) => {
  const t = e.detail.target;
  t.dataset.hadFocus = t.contains(document.activeElement) ? "1" : "";
});
document.addEventListener("htmx:afterSwap", (e) => {
  const t = e.detail.target;
  if (t.dataset.hadFocus !== "1") return;
  delete t.dataset.hadFocus;
  const to = t.querySelector("h2, h3") || t;
  if (!to.hasAttribute("tabindex")) to.setAttribute("tabindex", "-1");
  to.focus();
});
