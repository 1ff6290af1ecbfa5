// The document page's preview: pdf.js, loaded only on this page, draws one
// page at a time on a canvas, as wide as its column.
const box = document.getElementById("preview");
if (box) {
  const canvas = document.getElementById("preview-canvas");
  const prev = document.getElementById("prev-page");
  const next = document.getElementById("next-page");
  const num = document.getElementById("page-num");
  let doc = null;
  let current = 1;
  let rendering = null;
  let shown = null; // the viewport of the page drawn
  // armed is the form a click on the page fills: "comment" (a comment's
  // spot) or "sign" (the signature's place), null when clicks do nothing.
  let armed = null;
  const sheet = canvas.parentElement;
  const byId = (id) => document.getElementById(id);

  const show = async (n) => {
    if (rendering) await rendering.promise.catch(() => {});
    const page = await doc.getPage(n);
    const base = page.getViewport({ scale: 1 });
    const width = Math.max(box.clientWidth, 200);
    const ratio = window.devicePixelRatio || 1;
    const viewport = page.getViewport({ scale: (width / base.width) * ratio });
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    rendering = page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport });
    await rendering.promise;
    rendering = null;
    current = n;
    const label = box.dataset.label.replace("0", String(n));
    canvas.setAttribute("aria-label", label);
    num.textContent = n + " / " + doc.numPages;
    prev.disabled = n <= 1;
    next.disabled = n >= doc.numPages;
    shown = viewport;
    canvas.dataset.rendered = String(n);
    marks();
  };

  // mark draws a rectangle given in PDF points over the page, if it is
  // on the page shown.
  const mark = (kind, pageField, rectField) => {
    const pageIn = byId(pageField), rectIn = byId(rectField);
    if (!pageIn || !rectIn || !rectIn.value || Number(pageIn.value) !== current) return;
    const r = rectIn.value.split(",").map(Number);
    if (r.length !== 4 || r.some(Number.isNaN)) return;
    const v = shown.convertToViewportRectangle(r);
    const k = canvas.getBoundingClientRect().width / canvas.width;
    const el = document.createElement("div");
    el.className = "mark " + kind;
    el.style.left = Math.min(v[0], v[2]) * k + "px";
    el.style.top = Math.min(v[1], v[3]) * k + "px";
    el.style.width = Math.abs(v[2] - v[0]) * k + "px";
    el.style.height = Math.abs(v[3] - v[1]) * k + "px";
    sheet.appendChild(el);
  };
  const marks = () => {
    for (const el of sheet.querySelectorAll(".mark")) el.remove();
    if (!("latest" in box.dataset) || !shown) return;
    mark("sign", "sign-page", "sign-rect");
    mark("comment", "comment-page", "comment-rect");
  };

  // A click on the page, once a pick button is pressed, fills the form's
  // page and rectangle (PDF points, origin at the page's bottom left).
  canvas.addEventListener("click", (e) => {
    if (!armed || !shown) return;
    const box2 = canvas.getBoundingClientRect();
    const x = (e.clientX - box2.left) * canvas.width / box2.width;
    const y = (e.clientY - box2.top) * canvas.height / box2.height;
    const [px, py] = shown.convertToPdfPoint(x, y);
    const [w, h] = armed === "sign" ? signSize() : [120, 40];
    place(armed, Math.max(0, px - w / 2), Math.max(0, py - h / 2), w, h);
    armed = null;
    canvas.classList.remove("picking");
  });
  // signSize is the signature box's size: the one found, else a default.
  const signSize = () => {
    const old = byId("sign-rect").value.split(",").map(Number);
    if (old.length === 4 && !old.some(Number.isNaN)) return [Math.abs(old[2] - old[0]), Math.abs(old[3] - old[1])];
    return [120, 40];
  };
  // place fills the form's page and rectangle (PDF points) for the sign
  // or comment form, says so, and draws the frame.
  const place = (kind, x1, y1, w, h) => {
    if (kind === "sign") byId("sign-moved").value = "1";
    byId(kind + "-rect").value = [x1, y1, x1 + w, y1 + h].map((n) => n.toFixed(1)).join(",");
    byId(kind + "-page").value = String(current);
    const status = byId(kind === "sign" ? "place-status" : "pick-comment-status");
    if (status) status.textContent = (kind === "sign" ? status.dataset.moved : status.dataset.done).replace("%s", String(current));
    marks();
  };
  // Without a mouse: a preset spot of the page shown (a corner, the
  // foot's middle), chosen with the arrow keys, fills the same fields a
  // click on the page does; the page is chosen with the page buttons.
  const spots = byId("sign-spots");
  if (spots && "latest" in box.dataset) {
    spots.hidden = false;
    spots.addEventListener("change", (e) => {
      if (!shown || e.target.name !== "spot") return;
      const [vx0, vy0, vx1, vy1] = shown.viewBox;
      const [w, h] = signSize();
      const m = 56; // about two centimetres from the edges
      const at = {
        "bottom-right": [vx1 - m - w, vy0 + m],
        "bottom-center": [(vx0 + vx1 - w) / 2, vy0 + m],
        "bottom-left": [vx0 + m, vy0 + m],
        "top-right": [vx1 - m - w, vy1 - m - h],
      }[e.target.value];
      if (at) place("sign", Math.max(vx0, at[0]), Math.max(vy0, at[1]), w, h);
    });
  }
  if ("latest" in box.dataset) {
    for (const b of document.querySelectorAll("button[data-pick]")) {
      b.hidden = false;
      b.addEventListener("click", () => {
        armed = b.dataset.pick;
        canvas.classList.add("picking");
        const status = byId(armed === "sign" ? "place-status" : "pick-comment-status");
        if (status && armed === "comment") status.textContent = status.dataset.hint;
        canvas.scrollIntoView({ block: "center" });
      });
    }
  }
  for (const id of ["comment-page", "sign-page"]) {
    const f = byId(id);
    if (f) f.addEventListener("change", () => { if (byId(id.replace("page", "rect")).value) marks(); });
  }

  const start = async () => {
    const pdfjs = await import(box.dataset.lib);
    pdfjs.GlobalWorkerOptions.workerSrc = box.dataset.worker;
    doc = await pdfjs.getDocument({ url: box.dataset.src, isEvalSupported: false, withCredentials: true }).promise;
    await show(1);
  };
  prev.addEventListener("click", () => { if (current > 1) show(current - 1); });
  next.addEventListener("click", () => { if (doc && current < doc.numPages) show(current + 1); });
  start().catch((err) => {
    console.error("preview", err);
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = box.dataset.failed;
    box.replaceChildren(p);
  });
}
