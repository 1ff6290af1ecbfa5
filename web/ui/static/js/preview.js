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
    canvas.dataset.rendered = String(n);
  };

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
