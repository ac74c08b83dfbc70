// Draws every figure, sorts the configs table by a click on its header, filters it by text and status.
(function () {
  "use strict";
  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  document.querySelectorAll("script.bb-fig").forEach(function (el) {
    var target = document.getElementById(el.dataset.target);
    try {
      var fig = JSON.parse(el.textContent);
      Plotly.newPlot(target, fig.data, fig.layout, config).then(function () { target.dataset.rendered = "1"; },
        function (e) { window.__bbErrors.push("plot " + target.id + ": " + e); });
    } catch (e) { window.__bbErrors.push("plot " + target.id + ": " + e); }
  });

  var table = document.getElementById("bb-table");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("bb-filter");
  var boxes = document.querySelectorAll("input.bb-status");
  var count = document.getElementById("bb-count");

  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var allowed = {};
    boxes.forEach(function (b) { allowed[b.value] = b.checked; });
    var shown = 0;
    rows.forEach(function (tr) {
      var text = (tr.textContent + " " + tr.title).toLowerCase();
      var ok = allowed[tr.dataset.status] !== false && words.every(function (w) { return text.indexOf(w) >= 0; });
      tr.style.display = ok ? "" : "none";
      if (ok) shown++;
    });
    count.textContent = shown + " of " + rows.length + " shown";
  }
  filter.addEventListener("input", apply);
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  apply();

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    th.addEventListener("click", function () {
      var desc = !th.classList.contains("sorted-desc");
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
      th.classList.add(desc ? "sorted-desc" : "sorted-asc");
      var num = th.dataset.type === "num";
      var key = function (tr) {
        var td = tr.cells[col];
        if (!num) return td.textContent.trim().toLowerCase();
        var v = parseFloat(td.dataset.v);
        return isNaN(v) ? null : v;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null) return 1;  // empty cells last either way
        if (y === null) return -1;
        var c = x < y ? -1 : x > y ? 1 : 0;
        return desc ? -c : c;
      });
      rows.forEach(function (tr) { body.appendChild(tr); });
    });
  });
})();
