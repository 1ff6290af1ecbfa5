// The upload page: drag and drop onto the file field, and an upload with
// a progress bar sent to the API with the session cookie. Without this
// script the form posts to /documents/new and works the same, without
// progress.
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const nameOut = document.getElementById("file-name");
  const bar = document.getElementById("progress");
  const status = document.getElementById("upload-status");
  const button = form.querySelector("button[type=submit]");

  const showName = () => { nameOut.textContent = input.files.length ? input.files[0].name : ""; };
  input.addEventListener("change", showName);
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      showName();
    }
  });

  const fail = (msg) => {
    status.textContent = form.dataset.failed + ": " + msg;
    status.classList.add("alert");
    bar.hidden = true;
    button.disabled = false;
  };

  form.addEventListener("submit", (e) => {
    if (!form.reportValidity()) return;
    e.preventDefault();
    // Fields first, the file last: the service refuses wrong fields
    // before it reads a byte of the file.
    const body = new FormData();
    for (const name of ["type", "subject", "unit", "urgency", "confidentiality"]) {
      const el = form.elements.namedItem(name);
      if (el && el.value !== "") body.append(name, el.value);
    }
    body.append("file", input.files[0]);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api);
    xhr.setRequestHeader("Accept", "application/json");
    // One key per rendering of the form: sent twice, one document.
    if (form.dataset.key) xhr.setRequestHeader("Idempotency-Key", form.dataset.key);
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) bar.value = Math.round((ev.loaded / ev.total) * 100);
    });
    xhr.addEventListener("load", () => {
      let answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status === 201 && answer.id) {
        bar.value = 100;
        status.classList.remove("alert");
        status.textContent = form.dataset.done;
        window.location.assign("/documents/" + encodeURIComponent(answer.id));
        return;
      }
      fail(answer.detail || answer.title || String(xhr.status));
    });
    xhr.addEventListener("error", () => fail("network"));
    status.classList.remove("alert");
    status.textContent = "";
    bar.value = 0;
    bar.hidden = false;
    button.disabled = true;
    xhr.send(body);
  });
})();
