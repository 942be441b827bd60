// vaekit explore: the page. Talks to its own server only (see server.py for the API).
"use strict";

const $ = (id) => document.getElementById(id);
const S = {
  meta: null, map: null, points: [], selected: null, example: null, z: [], codes: null, position: 0,
  A: null, B: null, paths: null, examples: new Map(), sampleSeed: 0, painted: null, watchers: [],
};
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];

// --- talking to the server ---------------------------------------------------------------------

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `${path}: HTTP ${response.status}`);
  return answer;
}

// {"shape", "float32": base64 of little-endian float32} -> {shape, data: Float32Array}
function unpack(message) {
  const bytes = Uint8Array.from(atob(message.float32), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const data = new Float32Array(bytes.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(4 * i, true);
  return { shape: message.shape, data };
}

// example k of a batch (n, *shape)
function item(batch, k) {
  const size = batch.shape.slice(1).reduce((a, b) => a * b, 1);
  return batch.data.subarray(k * size, (k + 1) * size);
}

function say(message, error = false) {
  $("status").textContent = message;
  $("status").className = error ? "error" : "";
}

function failed(error) { say(error.message, true); }

// --- views of one example: pixels, bars, a line ------------------------------------------------

function makeView(size = "small") {
  const canvas = document.createElement("canvas");
  const kind = S.meta.kind;
  canvas.dataset.kind = kind;
  if (kind === "image") {
    const [, h, w] = S.meta.shape;
    canvas.width = w; canvas.height = h; canvas.className = "image";
  } else {
    const big = size === "big";
    canvas.width = big ? 360 : 48; canvas.height = big ? 180 : 36;
  }
  return canvas;
}

function paint(canvas, values) {
  const kind = S.meta.kind;
  if (kind === "image") paintImage(canvas, values);
  else if (kind === "table") paintBars(canvas, values);
  else paintLine(canvas, values);
  canvas.dataset.painted = String((Number(canvas.dataset.painted) || 0) + 1);
}

const level = (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);

function paintImage(canvas, values) {
  const [channels, h, w] = S.meta.shape;
  const ctx = canvas.getContext("2d");
  const picture = ctx.createImageData(w, h);
  const plane = h * w;
  for (let p = 0; p < plane; p++) {
    const colour = channels === 3;  // other channel counts show their first channel in grey
    picture.data[4 * p] = level(values[p]);
    picture.data[4 * p + 1] = level(values[colour ? plane + p : p]);
    picture.data[4 * p + 2] = level(values[colour ? 2 * plane + p : p]);
    picture.data[4 * p + 3] = 255;
  }
  ctx.putImageData(picture, 0, 0);
}

// model space -> y pixel, on the data's own range of model inputs
function yScale(canvas, pad) {
  const [low, high] = S.meta.range;
  const span = high - low || 1;
  return (v) => pad + (canvas.height - 2 * pad) * (1 - (Math.min(high, Math.max(low, v)) - low) / span);
}

// Table rows: one bar per column, height in the model's standardised units (standard deviations
// from the column's mean), so columns of any unit share one axis; the values in the table's own
// units are written under the main view.
function paintBars(canvas, values) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const y = yScale(canvas, 4);
  const n = values.length;
  const width = canvas.width / n;
  ctx.strokeStyle = "#999";
  ctx.beginPath(); ctx.moveTo(0, y(0)); ctx.lineTo(canvas.width, y(0)); ctx.stroke();
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = PALETTE[i % PALETTE.length];
    const top = Math.min(y(values[i]), y(0));
    ctx.fillRect(i * width + width * 0.1, top, width * 0.8, Math.max(1, Math.abs(y(values[i]) - y(0))));
  }
  if (canvas.width > 100 && S.meta.columns) {  // the big view names its columns under their bars
    ctx.fillStyle = "#333"; ctx.font = "11px sans-serif"; ctx.textAlign = "center";
    S.meta.columns.forEach((name, i) => ctx.fillText(name.slice(0, Math.max(3, width / 6)), (i + 0.5) * width, canvas.height - 2));
  }
}

function paintLine(canvas, values) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const y = yScale(canvas, 4);
  const step = canvas.width / Math.max(1, values.length - 1);
  ctx.strokeStyle = "#1f77b4"; ctx.lineWidth = canvas.width > 100 ? 1.5 : 1;
  ctx.beginPath();
  values.forEach((v, i) => (i ? ctx.lineTo(i * step, y(v)) : ctx.moveTo(0, y(v))));
  ctx.stroke();
}

// values in the table's own units: model value / scale + shift, per column
function inUnits(values) {
  const { shift, scale } = S.meta;
  return Array.from(values, (v, i) => v / scale[scale.length > 1 ? i : 0] + shift[shift.length > 1 ? i : 0]);
}

function valuesTable(values) {
  const table = document.createElement("table");
  table.className = "values";
  const units = inUnits(values);
  table.innerHTML = "<tr><th>column</th><th>value</th></tr>";
  S.meta.columns.forEach((name, i) => {
    const row = table.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = units[i].toPrecision(4);
  });
  return table;
}

// a view in a box: the canvas is made once and repainted
function show(boxId, values, size = "small") {
  const box = $(boxId);
  let canvas = box.querySelector("canvas");
  if (!canvas) { canvas = makeView(size); box.appendChild(canvas); }
  paint(canvas, values);
  return canvas;
}

function frame(values, caption) {
  const figure = document.createElement("figure");
  figure.className = "frame";
  const canvas = makeView();
  paint(canvas, values);
  figure.appendChild(canvas);
  const text = document.createElement("figcaption");
  text.textContent = caption;
  figure.appendChild(text);
  return figure;
}

// --- the current point: at most one decode in flight, always the latest request ---------------

const decoder = { busy: false, pending: null, inFlight: 0, maxInFlight: 0, sent: 0 };

function want(job) {
  decoder.pending = job;
  if (!decoder.busy) pump();
}

async function pump() {
  decoder.busy = true;
  while (decoder.pending) {
    const job = decoder.pending;
    decoder.pending = null;
    decoder.inFlight += 1; decoder.sent += 1;
    decoder.maxInFlight = Math.max(decoder.maxInFlight, decoder.inFlight);
    try {
      const answer = job.codes ? await api("/api/decode_codes", { codes: job.codes }) : await api("/api/decode", { z: job.z });
      paintMain(item(unpack(answer.x), 0), job, job.caption);
    } catch (error) {
      failed(error);
    } finally {
      decoder.inFlight -= 1;
    }
  }
  decoder.busy = false;
}

function decodeCurrent(caption) {
  if (S.meta.codes) want({ codes: S.codes.slice(), caption: caption || "decoded code grid" });
  else want({ z: S.z.slice(), caption: caption || `decoded at the sliders' ${S.meta.latent.name}` });
}

// paint the current point's view; watchers hear of it once the frame is on screen (the task after
// the next animation frame's callbacks runs after that frame's paint)
function paintMain(values, job, caption) {
  show("main-view", values, "big");
  $("main-caption").textContent = caption;
  if (S.meta.kind === "table") $("main-values").replaceChildren(valuesTable(values));
  requestAnimationFrame(() => setTimeout(() => {
    S.painted = { z: job.z ? job.z.slice() : null, codes: job.codes ? job.codes.slice() : null, t: performance.now() };
    S.watchers.forEach((watch) => watch(S.painted));
  }, 0));
}

// --- sliders -------------------------------------------------------------------------------------

function buildSliders() {
  const latent = S.meta.latent;
  $("slider-note").textContent = `One slider per dimension of ${latent.name}, ordered by ${
    latent.ranked_by === "KL" ? "mean KL per dimension over the split (nats), largest first"
      : "the variance of the posterior means over the split (this model has no KL per dimension)"}; `
    + `inactive: Var of the posterior mean <= ${latent.active_threshold}.`;
  const box = $("sliders");
  for (const d of latent.order) {
    const row = document.createElement("div");
    row.className = "slider" + (latent.active[d] ? "" : " inactive");
    const label = document.createElement("label");
    label.htmlFor = `slider-${d}`;
    label.textContent = `${latent.name}[${d}]` + (latent.kl ? ` KL ${latent.kl[d].toFixed(2)}` : "");
    const input = document.createElement("input");
    Object.assign(input, { type: "range", id: `slider-${d}`, min: latent.low[d], max: latent.high[d],
      step: (latent.high[d] - latent.low[d]) / 200 });
    input.dataset.dim = d;
    const output = document.createElement("output");
    const traverseButton = document.createElement("button");
    traverseButton.type = "button"; traverseButton.textContent = "traverse";
    traverseButton.addEventListener("click", () => { $("trav-dim").value = d; traverseCurrent(); });
    input.addEventListener("input", () => {
      S.z[d] = parseFloat(input.value);
      output.textContent = S.z[d].toFixed(2);
      decodeCurrent();
    });
    row.append(label, input, output, traverseButton);
    box.appendChild(row);
    const option = document.createElement("option");
    option.value = d; option.textContent = label.textContent;
    $("trav-dim").appendChild(option);
  }
}

function setSliders() {
  for (const input of $("sliders").querySelectorAll("input")) {
    const d = Number(input.dataset.dim);
    input.value = S.z[d];
    input.nextElementSibling.textContent = S.z[d].toFixed(2);
  }
}

// --- the map --------------------------------------------------------------------------------------

async function loadMap() {
  say("computing the map\u2026");
  S.map = await api(`/api/map?method=${encodeURIComponent($("map-method").value)}`);
  $("map-axes").textContent = `${S.map.method}: horizontal ${S.map.axes[0]}, vertical ${S.map.axes[1]}; `
    + `${S.map.index.length} of ${S.meta.examples} examples`;
  drawMap();
  say("");
}

function colourOf(k) {
  const choice = $("map-colour").value;
  if (choice === "label" && S.map.labels) return PALETTE[S.map.labels[k] % PALETTE.length];
  if (choice.startsWith("factor:") && S.map.factors) {
    const f = Number(choice.slice(7));
    const values = S.map.factors.map((row) => row[f]);
    const low = Math.min(...values), high = Math.max(...values);
    const t = high > low ? (S.map.factors[k][f] - low) / (high - low) : 0.5;
    return `hsl(${240 - 200 * t}, 70%, 45%)`;
  }
  return "#555";
}

function drawMap() {
  const canvas = $("map");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const xs = S.map.coords.map((c) => c[0]), ys = S.map.coords.map((c) => c[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const pad = 10, w = canvas.width - 2 * pad, h = canvas.height - 2 * pad;
  S.points = S.map.coords.map(([x, y]) => [pad + w * (x - x0) / (x1 - x0 || 1), pad + h * (1 - (y - y0) / (y1 - y0 || 1))]);
  let drawn = 0;
  S.points.forEach(([px, py], k) => {
    ctx.fillStyle = colourOf(k);
    ctx.globalAlpha = 0.7;
    ctx.fillRect(px - 2, py - 2, 4, 4);
    drawn += 1;
  });
  ctx.globalAlpha = 1;
  for (const [example, colour] of [[S.A, "#000"], [S.B, "#000"], [S.selected, "#d62728"]]) {
    const k = S.map.index.indexOf(example);
    if (k < 0) continue;
    ctx.strokeStyle = colour; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(S.points[k][0], S.points[k][1], 6, 0, 2 * Math.PI); ctx.stroke();
  }
  canvas.dataset.points = String(drawn);
  drawLegend();
}

function drawLegend() {
  const legend = $("legend");
  legend.replaceChildren();
  if ($("map-colour").value !== "label" || !S.map.labels) return;
  for (const label of [...new Set(S.map.labels)].sort((a, b) => a - b)) {
    const span = document.createElement("span");
    const dot = document.createElement("i");
    dot.style.background = PALETTE[label % PALETTE.length];
    span.append(dot, `label ${label}`);
    legend.appendChild(span);
  }
}

// the map point nearest to (x, y) in canvas pixels, within 8 pixels; -1 if none
function nearest(x, y) {
  let best = -1, bestDistance = 64;
  S.points.forEach(([px, py], k) => {
    const distance = (px - x) ** 2 + (py - y) ** 2;
    if (distance < bestDistance) { best = k; bestDistance = distance; }
  });
  return best;
}

function example(i) {
  if (!S.examples.has(i)) S.examples.set(i, api(`/api/example?index=${i}`));
  return S.examples.get(i);
}

let hovered = -1;
async function hover(event) {
  const k = nearest(event.offsetX, event.offsetY);
  const tip = $("tooltip");
  if (k < 0) { tip.hidden = true; hovered = -1; return; }
  const i = S.map.index[k];
  if (i === hovered) return;
  hovered = i;
  tip.hidden = false;
  tip.style.left = `${S.points[k][0] + 12}px`;
  tip.style.top = `${S.points[k][1] + 12}px`;
  $("tip-title").textContent = `example ${i}` + (S.map.labels ? `, label ${S.map.labels[k]}` : "");
  const answer = await example(i).catch(failed);
  if (!answer || hovered !== i) return;
  show("tip-input", item(unpack(answer.input), 0));
  show("tip-recon", item(unpack(answer.reconstruction), 0));
  tip.dataset.index = String(i);
}

async function select(i) {
  const answer = await example(i);
  S.selected = i; S.example = answer;
  show("sel-input", item(unpack(answer.input), 0));
  show("sel-recon", item(unpack(answer.reconstruction), 0));
  $("sel-input").dataset.index = String(i);
  if (S.meta.codes) {
    S.codes = answer.codes.slice();
    drawCodes();
  } else {
    S.z = answer.z.slice();
    setSliders();
  }
  decodeCurrent(`decoded at example ${i}'s posterior mean`);
  drawMap();
}

// --- sampling ---------------------------------------------------------------------------------------

async function sample() {
  const temperature = parseFloat($("temperature").value);
  const answer = await api("/api/sample", { n: 1, temperature, seed: S.sampleSeed++ });
  const caption = `a prior sample at temperature ${temperature}`;
  if (answer.codes) {
    S.codes = answer.codes[0];
    drawCodes();
  } else {
    S.z = Array.from(item(unpack(answer.z), 0));
    setSliders();
  }
  paintMain(item(unpack(answer.decoded), 0), { z: S.meta.codes ? null : S.z, codes: S.codes }, caption);
}

// --- paths and traversals ---------------------------------------------------------------------------

async function showPaths() {
  const a = parseInt($("path-a").value, 10), b = parseInt($("path-b").value, 10);
  const steps = parseInt($("path-steps").value, 10);
  S.A = a; S.B = b;
  const answer = await api("/api/interpolate", { from: a, to: b, steps, methods: S.meta.paths });
  S.paths = answer;
  const strips = $("strips");
  strips.replaceChildren();
  for (const method of S.meta.paths) {
    const row = document.createElement("div");
    row.className = "strip-row strips"; row.dataset.method = method;
    const name = document.createElement("span");
    name.textContent = method;
    row.appendChild(name);
    const decoded = unpack(answer[method].decoded);
    answer.t.forEach((t, k) => row.appendChild(frame(item(decoded, k), `t=${t.toFixed(2)}`)));
    strips.appendChild(row);
  }
  const scrub = $("scrub");
  scrub.max = steps - 1; scrub.value = 0; scrub.disabled = false;
  scrubTo(0);
  drawMap();
}

function scrubTo(k) {
  const method = $("scrub-path").value;
  const path = S.paths[method];
  for (const row of $("strips").children) {
    [...row.querySelectorAll(".frame")].forEach((f, j) => f.classList.toggle("current", j === k && row.dataset.method === method));
  }
  $("scrub-label").textContent = `t = ${S.paths.t[k].toFixed(2)} (${method})`;
  const z = S.meta.latent ? Array.from(item(unpack(path.z), k)) : null;
  if (z) { S.z = z; setSliders(); }
  paintMain(item(unpack(path.decoded), k), { z, codes: null }, `${method} path from ${S.paths.from} to ${S.paths.to}, t = ${S.paths.t[k].toFixed(2)}`);
}

async function traverseCurrent() {
  const dim = parseInt($("trav-dim").value, 10);
  const span = parseFloat($("trav-span").value), steps = parseInt($("trav-steps").value, 10);
  const answer = await api("/api/traverse", { dim, span, steps, z: S.z });
  const decoded = unpack(answer.decoded);
  const strip = $("traversal");
  strip.replaceChildren();
  strip.dataset.dim = String(dim);
  answer.values.forEach((v, k) => strip.appendChild(frame(item(decoded, k), `${S.meta.latent.name}[${dim}]=${v.toFixed(2)}`)));
}

// --- a VQ-VAE's code grid -----------------------------------------------------------------------------

function drawCodes() {
  const [rows, columns] = S.meta.codes.grid;
  const grid = $("code-grid");
  grid.style.gridTemplateColumns = `repeat(${columns}, auto)`;
  grid.replaceChildren();
  S.codes.forEach((code, p) => {
    const cell = document.createElement("button");
    cell.type = "button"; cell.textContent = code; cell.dataset.position = p;
    cell.title = `position ${p} (row ${Math.floor(p / columns)}, column ${p % columns}): code ${code}`;
    cell.style.background = `hsl(${(code * 137.5) % 360}, 60%, 80%)`;
    cell.classList.toggle("chosen", p === S.position);
    cell.addEventListener("click", () => { S.position = p; drawCodes(); });
    grid.appendChild(cell);
  });
  grid.dataset.rows = String(rows);
}

async function buildPalette() {
  const answer = await api("/api/palette");
  const decoded = unpack(answer.x);
  const palette = $("palette");
  for (let k = 0; k < S.meta.codes.size; k++) {
    const button = document.createElement("button");
    button.type = "button"; button.dataset.code = k; button.title = `code ${k}`;
    const canvas = makeView();
    paint(canvas, item(decoded, k));
    button.append(canvas, String(k));
    button.addEventListener("click", () => {
      S.codes[S.position] = k;
      drawCodes();
      decodeCurrent(`code grid with position ${S.position} set to code ${k}`);
    });
    palette.appendChild(button);
  }
}

// --- start ----------------------------------------------------------------------------------------------

function describe(meta) {
  $("run").textContent = meta.run;
  const what = { image: `images ${meta.shape.join("\u00d7")}`, table: `table rows of ${meta.shape[0]} columns`,
    signal: `1-D signals of length ${meta.shape.reduce((a, b) => a * b, 1)}` }[meta.kind];
  $("about").textContent = `${meta.model} on ${meta.data} (${meta.split} split, ${meta.examples} examples): ${what}.`;
  const notes = [meta.latent && meta.latent.note, meta.codes && `A VQ-VAE: ${meta.codes.positions} code positions `
    + `(${meta.codes.grid.join("\u00d7")}) from ${meta.codes.size} codebook entries; no sliders, edit the code grid.`];
  if (meta.kind === "table") notes.push("Bars: standard deviations from each column's mean; the values below are in the table's own units.");
  const note = notes.filter(Boolean).join(" ");
  $("note").hidden = !note;
  $("note").textContent = note;
}

function fillSelect(select, options) {
  for (const [value, text] of options) {
    const option = document.createElement("option");
    option.value = value; option.textContent = text;
    select.appendChild(option);
  }
}

function wire() {
  $("map").addEventListener("mousemove", hover);
  $("map").addEventListener("mouseleave", () => { $("tooltip").hidden = true; hovered = -1; });
  $("map").addEventListener("click", (event) => {
    const k = nearest(event.offsetX, event.offsetY);
    if (k >= 0) select(S.map.index[k]).catch(failed);
  });
  $("map-method").addEventListener("change", () => loadMap().catch(failed));
  $("map-colour").addEventListener("change", drawMap);
  $("reset").addEventListener("click", () => S.selected !== null && select(S.selected).catch(failed));
  $("sample").addEventListener("click", () => sample().catch(failed));
  $("set-a").addEventListener("click", () => { $("path-a").value = S.selected; S.A = S.selected; drawMap(); });
  $("set-b").addEventListener("click", () => { $("path-b").value = S.selected; S.B = S.selected; drawMap(); });
  $("show-paths").addEventListener("click", () => showPaths().catch(failed));
  $("scrub").addEventListener("input", () => scrubTo(parseInt($("scrub").value, 10)));
  $("scrub-path").addEventListener("change", () => S.paths && scrubTo(parseInt($("scrub").value, 10)));
  $("show-traverse").addEventListener("click", () => traverseCurrent().catch(failed));
}

async function start() {
  const meta = await api("/api/meta");
  S.meta = meta;
  describe(meta);
  fillSelect($("map-method"), meta.map_methods.map((m) => [m, m === "auto" ? "auto (means for 2-D, else PCA)" : m]));
  fillSelect($("map-colour"), [...(meta.labels ? [["label", "label"]] : []),
    ...meta.factors.map((name, f) => [`factor:${f}`, `factor ${name}`]), ["none", "none"]]);
  fillSelect($("scrub-path"), meta.paths.map((m) => [m, m]));
  $("sample").disabled = !meta.sample.available;
  $("sample-why").textContent = meta.sample.why;
  if (meta.latent) buildSliders();
  else { $("traverse-panel").hidden = true; $("codes-panel").hidden = false; await buildPalette(); }
  $("path-steps").max = meta.limits.steps; $("trav-steps").max = meta.limits.steps;
  wire();
  await loadMap();
  const first = S.map.index[0], second = S.map.index[Math.min(1, S.map.index.length - 1)];
  $("path-a").value = first; $("path-b").value = second;
  await select(first);
  document.body.dataset.ready = "true";
}

// for scripted checks and benchmarks: the page's state and its decode queue
window.explorer = {
  state: S, decoder,
  idle: () => !decoder.busy && !decoder.pending,
  // where example i's map point is, in CSS pixels from the centre of the map's element (border included)
  pointOf: (i) => {
    const canvas = $("map"), [x, y] = S.points[S.map.index.indexOf(i)];
    return [canvas.clientLeft + x - canvas.offsetWidth / 2, canvas.clientTop + y - canvas.offsetHeight / 2];
  },
  // the example the map shows at (x, y) pixels of the canvas, or null
  exampleAt: (x, y) => { const k = nearest(x, y); return k < 0 ? null : S.map.index[k]; },
};

start().catch(failed);
