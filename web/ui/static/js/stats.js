// Draws the statistics page's charts with Chart.js from each canvas's
// data-chart (labels and series computed by the server; the tables beside
// them hold the same figures for whoever cannot see the chart). A drawn
// canvas is marked data-rendered="1".
(function () {
  "use strict";
  var palette = ["#1f5fa8", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#334155"];
  var stackColours = ["#15803d", "#c2410c", "#1f5fa8", "#b91c1c"];
  function draw(canvas) {
    var spec;
    try { spec = JSON.parse(canvas.dataset.chart); } catch (e) { return; }
    var colours = spec.stacked ? stackColours : palette;
    var datasets = (spec.datasets || []).map(function (s, i) {
      var c = colours[i % colours.length];
      return { label: s.label, data: s.data, borderColor: c, backgroundColor: c, spanGaps: true, tension: 0.2, pointRadius: 3 };
    });
    var scaleY = { beginAtZero: true, stacked: !!spec.stacked };
    if (spec.percent) {
      scaleY.max = 100;
      scaleY.ticks = { callback: function (v) { return v + " %"; } };
    }
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels || [], datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { stacked: !!spec.stacked }, y: scaleY },
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.dataset.rendered = "1";
  }
  function start() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
