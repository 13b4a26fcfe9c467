"""The page's inline style sheet and script: small vanilla JS that draws the charts as SVG.

The script reads its data from ``<script type="application/json" id="data">`` and writes every data
string with textContent or setAttribute, never as markup. It takes the SVG namespace from the
``<svg>`` elements already in the page, so the page holds no URL at all.
"""

STYLE = """
:root{--ink:#222;--muted:#666;--line:#ddd;--accent:#1f4e79;--worst:#d62728}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0;background:#fafafa}
header{background:var(--accent);color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}header p{margin:2px 0 0;opacity:.85}
main{max-width:1040px;margin:0 auto;padding:8px 24px 40px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 8px}h3{font-size:14px;margin:12px 0 4px}
table{border-collapse:collapse;font-size:13px}
td,th{border-bottom:1px solid var(--line);padding:3px 10px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;max-height:480px;overflow-y:auto}.wide{overflow-x:auto}
table.fit{width:100%}table.fit th,table.fit td{overflow-wrap:anywhere}
table.samples td{max-width:360px;white-space:pre-wrap;word-break:break-word}
.note{color:var(--muted);margin:4px 0}
svg.chart{width:100%;height:auto;display:block;background:#fff}
.axis line{stroke:#888;stroke-width:1}.axis line.grid{stroke:#eee}
.axis text,.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}
.pt{stroke:#fff;stroke-width:1;cursor:pointer}.pt.dominated{opacity:.4}
.pt.pareto{stroke:#222;stroke-width:1.2}.pt.merged{stroke-dasharray:2 1.5;stroke-width:2}.pt.selected{stroke:#000;stroke-width:3}
.front-line{fill:none;stroke:#222;stroke-width:1.5;stroke-dasharray:4 3}
.knee{fill:none;stroke:var(--worst);stroke-width:2}.knee-label{fill:var(--worst);font-size:12px}
.bar.worst{stroke:var(--worst);stroke-width:2.5}text.worst{fill:var(--worst);font-weight:600}
.map-pt{stroke:none}
.cell{stroke:#fff;stroke-width:.5}.empty{fill:#f4f4f4;stroke:#bbb;stroke-width:.6;stroke-dasharray:2 2}
.qd-line,.coverage-line{fill:none;stroke-width:2}.coverage-line{stroke-dasharray:5 3}.qd-pt{stroke:#fff;stroke-width:1}.mean{stroke-width:1.5;stroke-dasharray:5 3}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;margin:6px 0}
.legend span.sw{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:5px;vertical-align:-1px}
.details table{margin-top:6px}.details td{max-width:560px;word-break:break-word}.details th{color:var(--muted);font-weight:500}
.tip{position:fixed;z-index:10;background:#fff;border:1px solid #999;border-radius:4px;padding:6px 8px;
font-size:12px;max-width:420px;box-shadow:0 2px 6px rgba(0,0,0,.15);pointer-events:none;word-break:break-word}
.tip .head{font-weight:600}
.error{color:var(--worst)}
"""

SCRIPT = r"""
(function () {
"use strict";
var D = JSON.parse(document.getElementById("data").textContent);
var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f",
               "#e15759", "#bab0ac"];

function svgNode(parent, tag, attrs, text) {
  var node = document.createElementNS(parent.namespaceURI, tag);
  Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}
function htmlNode(parent, tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}
function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return typeof v === "string" ? v : JSON.stringify(v);
}
function isNum(v) { return typeof v === "number" && isFinite(v); }
function cut(text, n) { return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; }

function extent(values, pad) {
  var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
  if (lo === hi) { return [lo - 0.5, hi + 0.5]; }
  var d = (hi - lo) * pad;
  return [lo - d, hi + d];
}
function ticks(domain, count) {
  var span = domain[1] - domain[0], raw = span / count;
  var mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
  [1, 2, 5, 10].some(function (m) { step = m * mag; return span / step <= count; });
  var out = [];
  for (var t = Math.ceil(domain[0] / step) * step; t <= domain[1] + step * 1e-9; t += step) {
    out.push(Number(t.toPrecision(12)));
  }
  return out;
}
function linear(d, r) { return function (v) { return r[0] + (v - d[0]) / (d[1] - d[0]) * (r[1] - r[0]); }; }

// Axes, grid and labels; returns the scales and the plot box. `bottom` (no x ticks) and `right` widen margins.
function frame(svg, xDomain, yDomain, xLabel, yLabel, bottom, right) {
  var box = svg.viewBox.baseVal, W = box.width, H = box.height, m = {l: 66, r: right || 18, t: 14, b: bottom || 46};
  var xTicks = !bottom;
  var sx = linear(xDomain, [m.l, W - m.r]), sy = linear(yDomain, [H - m.b, m.t]);
  var g = svgNode(svg, "g", {"class": "axis"});
  ticks(yDomain, 6).forEach(function (t) {
    svgNode(g, "line", {"class": "grid", x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t)});
    svgNode(g, "text", {x: m.l - 6, y: sy(t) + 4, "text-anchor": "end"}, fmt(t));
  });
  if (xTicks) {
    ticks(xDomain, 8).forEach(function (t) {
      svgNode(g, "line", {x1: sx(t), x2: sx(t), y1: H - m.b, y2: H - m.b + 5});
      svgNode(g, "text", {x: sx(t), y: H - m.b + 18, "text-anchor": "middle"}, fmt(t));
    });
  }
  svgNode(g, "line", {x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b});
  svgNode(g, "line", {x1: m.l, x2: m.l, y1: m.t, y2: H - m.b});
  if (xLabel) svgNode(svg, "text", {"class": "label", x: (m.l + W - m.r) / 2, y: H - 8, "text-anchor": "middle"}, xLabel);
  svgNode(svg, "text", {"class": "label", transform: "translate(14," + (m.t + H - m.b) / 2 + ") rotate(-90)",
                        "text-anchor": "middle"}, yLabel);
  return {sx: sx, sy: sy, W: W, H: H, m: m};
}

function legend(id, entries) {
  var box = document.getElementById(id);
  entries.forEach(function (e) {
    var item = htmlNode(box, "span");
    var sw = htmlNode(item, "span", "sw");
    sw.style.background = e.color;
    if (e.square) sw.style.borderRadius = "2px";
    item.appendChild(document.createTextNode(e.text));
  });
}

var tip = htmlNode(document.body, "div", "tip");
tip.hidden = true;
function showTip(evt, lines) {
  tip.replaceChildren();
  lines.forEach(function (line, i) { htmlNode(tip, "div", i ? "" : "head", line); });
  tip.hidden = false;
  moveTip(evt);
}
function moveTip(evt) {
  tip.style.left = Math.min(evt.clientX + 14, window.innerWidth - 300) + "px";
  tip.style.top = (evt.clientY + 14) + "px";
}
function hover(target, lines) {
  target.addEventListener("mouseover", function (evt) {
    var key = evt.target.getAttribute("data-i");
    if (key !== null) showTip(evt, lines(Number(key)));
  });
  target.addEventListener("mousemove", moveTip);
  target.addEventListener("mouseout", function () { tip.hidden = true; });
}

// The Pareto chart: the first two objectives, front points connected, knee marked, click for details.
// One marker per position: settings with identical values of both objectives share it (F.markers).
function pointLines(F, i) {
  var p = F.points[i], lines = [p.method + (p.pareto ? " (Pareto)" : "") + (i === F.knee ? " (knee)" : "")];
  Object.keys(p.params).forEach(function (k) { lines.push(k + " = " + fmt(p.params[k])); });
  Object.keys(p.metrics).forEach(function (k) { lines.push(k + ": " + fmt(p.metrics[k])); });
  return lines;
}
function setting(F, i) {
  var p = F.points[i];
  return p.method + " " + Object.keys(p.params).map(function (k) { return k + "=" + fmt(p.params[k]); }).join(", ");
}
function markerLines(F, j) {
  var m = F.markers[j];
  if (m.length === 1) return pointLines(F, m[0]);
  return [m.length + " settings with the same values"].concat(m.map(function (i) { return setting(F, i); }),
    Object.keys(F.points[m[0]].metrics).map(function (k) { return k + ": " + fmt(F.points[m[0]].metrics[k]); }));
}
function showDetails(F, j) {
  var m = F.markers[j], box = document.getElementById("front-details");
  box.replaceChildren();
  m.forEach(function (i) {
    var p = F.points[i];
    htmlNode(box, "h3", "", "Point " + i + (i === F.knee ? " (knee)" : "") + (p.pareto ? ", on the front" : ", dominated"));
    var table = htmlNode(box, "table");
    function row(k, v, cls) {
      var tr = htmlNode(table, "tr");
      htmlNode(tr, "th", "", k);
      htmlNode(tr, "td", cls, v);
    }
    row("method", p.method);
    Object.keys(p.params).forEach(function (k) { row(k, fmt(p.params[k])); });
    Object.keys(p.metrics).forEach(function (k) { row(k, fmt(p.metrics[k]), "num"); });
  });
}
function drawFront(F) {
  var svg = document.getElementById("front-chart"), ox = F.objectives[0], oy = F.objectives[1];
  var pts = F.markers.map(function (m, j) {
    var p = F.points[m[0]];
    return {j: j, m: m, p: p, x: p.metrics[ox.name], y: p.metrics[oy.name],
            pareto: m.some(function (i) { return F.points[i].pareto; }), knee: m.indexOf(F.knee) >= 0};
  });
  if (!pts.length) throw new Error("no point has values for both " + ox.name + " and " + oy.name);
  var f = frame(svg, extent(pts.map(function (d) { return d.x; }), 0.06),
                extent(pts.map(function (d) { return d.y; }), 0.08),
                ox.name + " (" + ox.direction + ")", oy.name + " (" + oy.direction + ")");
  var series = [];
  F.points.forEach(function (p) { if (series.indexOf(p.series) < 0) series.push(p.series); });
  function color(s) { return PALETTE[series.indexOf(s) % PALETTE.length]; }
  var front = pts.filter(function (d) { return d.pareto; }).sort(function (a, b) { return a.x - b.x || a.y - b.y; });
  if (front.length > 1) {
    svgNode(svg, "polyline", {"class": "front-line",
      points: front.map(function (d) { return f.sx(d.x) + "," + f.sy(d.y); }).join(" ")});
  }
  var marks = svgNode(svg, "g", {"class": "marks"}), nodes = {}, kneeMarker = null;
  pts.slice().sort(function (a, b) { return a.pareto - b.pareto; }).forEach(function (d) {
    var cls = "pt " + (d.pareto ? "pareto" : "dominated") + (d.m.length > 1 ? " merged" : "");
    var c = svgNode(marks, "circle", {"class": cls, cx: f.sx(d.x), cy: f.sy(d.y),
      r: (d.pareto ? 6 : 4.5) + (d.m.length > 1 ? 1.5 : 0), fill: color(d.p.series), "data-i": d.j, tabindex: 0});
    svgNode(c, "title", {}, markerLines(F, d.j).join("\n"));
    nodes[d.j] = c;
    if (d.knee) kneeMarker = d.j;
  });
  var knee = kneeMarker === null ? null : nodes[kneeMarker];
  if (knee) {
    var kx = Number(knee.getAttribute("cx")), ky = Number(knee.getAttribute("cy"));
    svgNode(svg, "circle", {"class": "knee", cx: kx, cy: ky, r: 11});
    svgNode(svg, "text", {"class": "knee-label", x: kx + 14, y: ky - 10}, "knee");
  }
  var selected = null;
  function select(j) {
    if (selected) selected.classList.remove("selected");
    selected = nodes[j];
    selected.classList.add("selected");
    showDetails(F, j);
  }
  hover(marks, function (j) { return markerLines(F, j); });
  marks.addEventListener("click", function (evt) {
    var key = evt.target.getAttribute("data-i");
    if (key !== null) select(Number(key));
  });
  marks.addEventListener("keydown", function (evt) {
    var key = evt.target.getAttribute("data-i");
    if (key !== null && (evt.key === "Enter" || evt.key === " ")) { evt.preventDefault(); select(Number(key)); }
  });
  select(knee ? kneeMarker : front.length ? front[0].j : pts[0].j);
  var entries = series.map(function (s) { return {color: color(s), text: s}; });
  var extra = [{color: "#222", text: "dark outline and dashed line: Pareto front"}, {color: "#d62728", text: "red ring: knee"}];
  if (pts.some(function (d) { return d.m.length > 1; })) extra.push({color: "#bbb", text: "dotted outline: several settings, same values"});
  legend("front-legend", entries.concat(extra));
}

// Per-group bars: one bar per group and series; the worst group outlined in red.
function drawGroups(G) {
  var svg = document.getElementById("groups-chart"), names = Object.keys(G.metrics);
  if (names.length > 1) {
    var label = htmlNode(document.getElementById("groups-controls"), "label", "", "metric ");
    var choice = htmlNode(label, "select");
    names.forEach(function (name) {
      var opt = htmlNode(choice, "option", "", name);
      opt.value = name;
      opt.selected = name === G.metric;
    });
    choice.addEventListener("change", function () { svg.replaceChildren(); groupBars(svg, G, choice.value); });
  }
  groupBars(svg, G, G.metric);
  var series = Object.keys(G.metrics[G.metric]);
  if (series.length > 1) {
    legend("groups-legend", series.map(function (s, k) { return {color: PALETTE[k], text: s, square: true}; }));
  }
}
function groupBars(svg, G, metric) {
  var series = G.metrics[metric], keys = Object.keys(series), values = [];
  keys.forEach(function (s) { series[s].forEach(function (v) { if (isNum(v)) values.push(v); }); });
  var lo = Math.min(0, Math.min.apply(null, values)), hi = Math.max(0, Math.max.apply(null, values));
  if (lo === hi) hi = lo + 1;
  var rotate = G.labels.length > 8;
  var f = frame(svg, [0, 1], [lo, hi + (hi - lo) * 0.05], "", metric, rotate ? 100 : 30);
  var band = (f.W - f.m.l - f.m.r) / G.labels.length, width = band * 0.8 / keys.length;
  var marks = svgNode(svg, "g", {"class": "marks"}), info = [];
  G.labels.forEach(function (g, j) {
    var worst = g === G.worst ? " worst" : "";
    keys.forEach(function (s, k) {
      var v = series[s][j];
      if (!isNum(v)) return;
      info.push([g, s + ": " + fmt(v)].concat(G.n ? ["n = " + fmt(G.n[j])] : []));
      svgNode(marks, "rect", {"class": "bar" + worst, x: f.m.l + band * (j + 0.1) + width * k,
        y: f.sy(Math.max(v, 0)), width: Math.max(width - 1, 1), height: Math.abs(f.sy(v) - f.sy(0)),
        fill: PALETTE[k], "data-i": info.length - 1});
    });
    var x = f.m.l + band * (j + 0.5), y = f.H - f.m.b + 14;
    var t = svgNode(svg, "text", {"class": "tick" + worst, x: x, y: y, "text-anchor": rotate ? "end" : "middle"},
                    cut(g, rotate ? 22 : Math.max(6, Math.floor(band / 7))));
    if (rotate) t.setAttribute("transform", "rotate(-35 " + x + " " + y + ")");
    svgNode(t, "title", {}, g);
  });
  hover(marks, function (i) { return info[i]; });
}

// Quality histograms, before and after, as shares of each set.
function drawHist(Hd) {
  var svg = document.getElementById("hist-chart"), e = Hd.edges, top = 0;
  Hd.series.forEach(function (s) { top = Math.max(top, Math.max.apply(null, s.fractions)); });
  var f = frame(svg, [e[0], e[e.length - 1]], [0, top * 1.08 || 1], "quality", "share of items");
  var marks = svgNode(svg, "g", {"class": "marks"}), info = [];
  Hd.series.forEach(function (s, k) {
    s.fractions.forEach(function (v, b) {
      if (!(v > 0)) return;
      info.push([s.name, "[" + fmt(e[b]) + ", " + fmt(e[b + 1]) + "): " + fmt(100 * v) + "%"]);
      svgNode(marks, "rect", {"class": "bar", x: f.sx(e[b]) + 0.5, y: f.sy(v), width: Math.max(f.sx(e[b + 1]) - f.sx(e[b]) - 1, 1),
        height: f.sy(0) - f.sy(v), fill: PALETTE[k], "fill-opacity": Hd.series.length > 1 ? 0.55 : 0.85, "data-i": info.length - 1});
    });
    svgNode(svg, "line", {"class": "mean", x1: f.sx(s.mean), x2: f.sx(s.mean), y1: f.sy(0), y2: f.m.t, stroke: PALETTE[k]});
  });
  hover(marks, function (i) { return info[i]; });
  legend("hist-legend", Hd.series.map(function (s, k) {
    return {color: PALETTE[k], square: true, text: s.name + " (n = " + s.n + ", mean " + fmt(s.mean) + ", dashed)"};
  }));
}

// The 2-D map of the embeddings: chosen points in colour over the rest in grey; without a choice
// (a measure), points coloured by label, the nine most frequent labels each in its own colour.
var OTHER = "#9aa4ad";
function drawMap(M) {
  var svg = document.getElementById("map-chart"), idx = [];
  M.x.forEach(function (x, i) { if (isNum(x) && isNum(M.y[i])) idx.push(i); });
  if (!idx.length) throw new Error("no point has finite coordinates");
  var f = frame(svg, extent(idx.map(function (i) { return M.x[i]; }), 0.04),
                extent(idx.map(function (i) { return M.y[i]; }), 0.04), "component 1", "component 2");
  var marks = svgNode(svg, "g", {"class": "marks"}), style, entries;
  function name(i) { return M.names ? M.names[M.label[i]] : "point " + i; }
  if (M.chosen) {
    var count = idx.filter(function (i) { return M.chosen[i]; }).length;
    idx.sort(function (a, b) { return M.chosen[a] - M.chosen[b]; });
    style = function (i) { return M.chosen[i] ? [PALETTE[1], 3.2, 0.9] : [OTHER, 2.4, 0.45]; };
    entries = [{color: OTHER, text: "not chosen (" + (idx.length - count) + ")"},
               {color: PALETTE[1], text: "chosen (" + count + ")"}];
  } else if (M.names) {
    var sizes = M.names.map(function () { return 0; });
    idx.forEach(function (i) { sizes[M.label[i]] += 1; });
    var order = M.names.map(function (_, k) { return k; }).sort(function (a, b) { return sizes[b] - sizes[a] || a - b; });
    var shown = order.length > PALETTE.length ? order.slice(0, PALETTE.length - 1) : order, colors = {};
    shown.forEach(function (k, r) { colors[k] = PALETTE[r]; });
    style = function (i) { return [colors[M.label[i]] || OTHER, 2.6, 0.7]; };
    entries = shown.map(function (k) { return {color: colors[k], text: M.names[k] + " (" + sizes[k] + ")"}; });
    if (shown.length < order.length) {
      var rest = order.slice(shown.length).reduce(function (t, k) { return t + sizes[k]; }, 0);
      entries.push({color: OTHER, text: (order.length - shown.length) + " other groups (" + rest + ")"});
    }
  } else {
    style = function () { return [PALETTE[0], 2.6, 0.6]; };
    entries = [{color: PALETTE[0], text: "items (" + idx.length + ")"}];
  }
  idx.forEach(function (i) {
    var s = style(i);
    svgNode(marks, "circle", {"class": "map-pt", cx: f.sx(M.x[i]), cy: f.sy(M.y[i]), r: s[1], fill: s[0],
      "fill-opacity": s[2], "data-i": i});
  });
  hover(marks, function (i) { return M.chosen ? [name(i), M.chosen[i] ? "chosen" : "not chosen"] : [name(i)]; });
  legend("map-legend", entries);
}

// The archive heatmap: one rect per cell of the first two axes (one row with one axis), coloured by the
// best fitness among its elites; empty cells stay pale with a dashed outline.
var VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137],
               [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37]];
function ramp(t) {
  var s = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1), k = Math.min(Math.floor(s), VIRIDIS.length - 2), u = s - k;
  return "rgb(" + VIRIDIS[k].map(function (c, j) { return Math.round(c + (VIRIDIS[k + 1][j] - c) * u); }).join(",") + ")";
}
function cellLines(Hm, c) {
  var lines = [Hm.x.name + ": " + Hm.x.labels[c.x]];
  if (Hm.y) lines.push(Hm.y.name + ": " + Hm.y.labels[c.y]);
  if (!c.n) return lines.concat(["empty"]);
  lines.push("elites: " + c.n, "best fitness: " + fmt(c.best));
  if (Hm.rest) lines.push("best elite's cell: " + c.cell.join(", "));
  return lines.concat(["best: " + c.text]);
}
function drawHeatmap(Hm) {
  var svg = document.getElementById("heatmap-chart"), nx = Hm.x.labels.length, ny = Hm.y ? Hm.y.labels.length : 1;
  var rotate = nx > 8, W = 760, m = {l: Hm.y ? 140 : 20, r: 96, t: 14, b: rotate ? 116 : 46};
  var cw = (W - m.l - m.r) / nx, ch = ny === 1 ? Math.min(cw, 60) : Math.min(cw, 40, Math.max(600 / ny, 4));
  var gridH = ny * ch, H = m.t + Math.max(gridH, 100) + m.b;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  var best = Hm.cells.map(function (c) { return c.best; });
  var lo = best.reduce(function (a, b) { return Math.min(a, b); }, Infinity);
  var hi = best.reduce(function (a, b) { return Math.max(a, b); }, -Infinity);
  function color(v) { return ramp(hi > lo ? (v - lo) / (hi - lo) : 1); }
  var grid = [], k;
  for (k = 0; k < nx * ny; k++) grid.push({x: k % nx, y: Math.floor(k / nx), n: 0});
  Hm.cells.forEach(function (c) { grid[c.y * nx + c.x] = c; });
  var marks = svgNode(svg, "g", {"class": "marks"});
  grid.forEach(function (c, i) {
    var r = svgNode(marks, "rect", {"class": c.n ? "cell" : "empty", x: m.l + c.x * cw, y: m.t + (ny - 1 - c.y) * ch,
      width: cw, height: ch, "data-i": i});
    if (c.n) {
      r.setAttribute("fill", color(c.best));
      svgNode(r, "title", {}, cellLines(Hm, c).join("\n"));
    }
  });
  hover(marks, function (i) { return cellLines(Hm, grid[i]); });
  var step = Math.ceil(nx / 30);
  Hm.x.labels.forEach(function (label, j) {
    if (j % step) return;
    var x = m.l + (j + 0.5) * cw, y = m.t + gridH + 14;
    var t = svgNode(svg, "text", {"class": "tick", x: x, y: y, "text-anchor": rotate ? "end" : "middle"},
                    cut(label, rotate ? 18 : Math.max(4, Math.floor(cw / 7))));
    if (rotate) t.setAttribute("transform", "rotate(-35 " + x + " " + y + ")");
    svgNode(t, "title", {}, label);
  });
  svgNode(svg, "text", {"class": "label", x: (m.l + W - m.r) / 2, y: m.t + gridH + m.b - 8, "text-anchor": "middle"},
          Hm.x.name);
  if (Hm.y) {
    var every = Math.ceil(13 / ch);
    Hm.y.labels.forEach(function (label, j) {
      if (j % every) return;
      var t = svgNode(svg, "text", {"class": "tick", x: m.l - 6, y: m.t + (ny - 0.5 - j) * ch + 4, "text-anchor": "end"},
                      cut(label, 18));
      svgNode(t, "title", {}, label);
    });
    svgNode(svg, "text", {"class": "label", transform: "translate(14," + (m.t + gridH / 2) + ") rotate(-90)",
                          "text-anchor": "middle"}, Hm.y.name);
  }
  if (Hm.cells.length) {
    var bx = W - m.r + 18, bh = Math.max(gridH, 100), parts = 20;
    for (k = 0; k < parts; k++) {
      svgNode(svg, "rect", {"class": "scale", x: bx, y: m.t + bh * (parts - 1 - k) / parts, width: 14,
        height: bh / parts + 0.5, fill: ramp(k / (parts - 1))});
    }
    svgNode(svg, "text", {"class": "tick", x: bx + 18, y: m.t + 10}, fmt(hi));
    svgNode(svg, "text", {"class": "tick", x: bx + 18, y: m.t + bh}, fmt(lo));
    svgNode(svg, "text", {"class": "label", transform: "translate(" + (W - 8) + "," + (m.t + bh / 2) + ") rotate(-90)",
                          "text-anchor": "middle"}, "best fitness");
  }
  legend("heatmap-legend", [{color: ramp(0.6), square: true, text: "cell with elites (" + Hm.cells.length + ")"},
                            {color: "#e4e4e4", square: true, text: "empty cell (" + (nx * ny - Hm.cells.length) + ")"}]);
}

// The QD-score curve: QD score (left axis) and coverage (right axis, dashed) against evaluations.
function drawQD(Q) {
  var svg = document.getElementById("qd-chart"), keys = Object.keys(Q), ev = Q.evaluations;
  var qd = ev.map(function (_, i) { return i; }).filter(function (i) { return isNum(Q.qd_score[i]); });
  var cov = ev.map(function (_, i) { return i; }).filter(function (i) { return isNum(Q.coverage[i]); });
  if (!qd.length && !cov.length) throw new Error("no history entry has a QD score or a coverage");
  var xs = ev.reduce(function (a, v) { return [Math.min(a[0], v), Math.max(a[1], v)]; }, [0, -Infinity]);
  var qs = qd.map(function (i) { return Q.qd_score[i]; }).concat([0]);
  var qLo = Math.min.apply(null, qs), qHi = Math.max.apply(null, qs);
  var cHi = cov.reduce(function (a, i) { return Math.max(a, Q.coverage[i]); }, 0);
  var f = frame(svg, [xs[0], xs[1] > xs[0] ? xs[1] : xs[0] + 1], [qLo, qHi > qLo ? qHi * 1.05 : qLo + 1],
                "evaluations", "QD score", 0, 66);
  var cDomain = [0, cHi <= 1 ? 1 : cHi * 1.05], sc = linear(cDomain, [f.H - f.m.b, f.m.t]);
  var g = svgNode(svg, "g", {"class": "axis"});
  svgNode(g, "line", {x1: f.W - f.m.r, x2: f.W - f.m.r, y1: f.m.t, y2: f.H - f.m.b});
  ticks(cDomain, 5).forEach(function (t) {
    svgNode(g, "text", {x: f.W - f.m.r + 6, y: sc(t) + 4, "text-anchor": "start"}, fmt(t));
  });
  svgNode(svg, "text", {"class": "label", transform: "translate(" + (f.W - 12) + "," + (f.m.t + f.H - f.m.b) / 2 +
                        ") rotate(-90)", "text-anchor": "middle"}, "coverage");
  function line(cls, idx, y, color) {
    if (idx.length > 1) {
      svgNode(svg, "polyline", {"class": cls, stroke: color,
        points: idx.map(function (i) { return f.sx(ev[i]) + "," + y(i); }).join(" ")});
    }
  }
  line("coverage-line", cov, function (i) { return sc(Q.coverage[i]); }, PALETTE[1]);
  line("qd-line", qd, function (i) { return f.sy(Q.qd_score[i]); }, PALETTE[0]);
  var marks = svgNode(svg, "g", {"class": "marks"});
  qd.forEach(function (i) {
    svgNode(marks, "circle", {"class": "qd-pt", cx: f.sx(ev[i]), cy: f.sy(Q.qd_score[i]), r: 3.5, fill: PALETTE[0],
      "data-i": i});
  });
  hover(marks, function (i) {
    return keys.filter(function (k) { return isNum(Q[k][i]); }).map(function (k) { return k + ": " + fmt(Q[k][i]); });
  });
  legend("qd-legend", [{color: PALETTE[0], text: "QD score (left axis)"},
                       {color: PALETTE[1], text: "coverage (right axis, dashed)"}]);
}

function guard(key, draw) {
  if (!D[key]) return;
  try { draw(D[key]); } catch (err) {
    var svg = document.getElementById(key + "-chart");
    htmlNode(svg.parentNode, "p", "error", "This chart could not be drawn: " + err.message);
  }
}
guard("front", drawFront);
guard("groups", drawGroups);
guard("hist", drawHist);
guard("map", drawMap);
guard("heatmap", drawHeatmap);
guard("qd", drawQD);
})();
"""
