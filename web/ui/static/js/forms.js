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
