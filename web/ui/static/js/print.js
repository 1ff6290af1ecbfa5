// The register page's Print button: shown only when scripts run (printing
// is also the browser's own command), it opens the print dialog, which the
// print stylesheet lays out as the register book.
for (const b of document.querySelectorAll("button[data-print]")) {
  b.hidden = false;
  b.addEventListener("click", () => window.print());
}
