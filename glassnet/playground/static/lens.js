// The learner's lens: loss landscape, gradient flow, saturation, diagnosis and the learning-rate finder (PROTOCOL.md:
// `lens`, `lr_find`, `frame.lens`). Each panel is a <details>: opening one asks the server for its data, which then
// comes with the frames (live at low resolution while training, full when paused); closed panels cost nothing.
import { $, app } from "./page.js";
import { send, setState } from "./connection.js";
import { axes, ends, setupCanvas } from "./charts.js";
import { esc, fmt } from "./panels.js";

const PANELS = { landscape: "landscape-panel", gradients: "gradients-panel", saturation: "saturation-panel", diagnosis: "diagnosis-panel" };
const COLORS = ["#0877bd", "#f59322", "#1a7f37", "#a40000", "#6a3d9a", "#b15928", "#17a2b8", "#555", "#e377c2", "#8c6d31", "#393b79"];
const pct = (v) => (v == null ? "–" : `${Math.round(100 * v)}%`);
const lens = { data: null, lr: null };

/** Wire the panels: each one's toggle (re)subscribes, the directions choice, the lr finder's buttons. */
export function buildLens() {
  for (const id of Object.values(PANELS)) $(id).addEventListener("toggle", subscribe);
  $("landscape-directions").addEventListener("change", subscribe);
  $("lr-find-button").addEventListener("click", () => {
    $("lr-find-button").disabled = true;
    $("lr-find-result").textContent = "Sweeping the learning rate on a copy of the network…";
    send({ type: "lr_find" });
  });
  $("lr-find-use").addEventListener("click", () => {
    if (lens.lr) setState({ learningRate: lens.lr.rate });
  });
  let resizeTimer;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { // the canvases take their new size: draw the last data again
      if (lens.data) onLens(lens.data);
      if (lens.lr) drawLrFind(lens.lr);
    }, 150);
  });
  clearLens();
}

/** Tell the server which panels are open (also after a reconnect: the new session knows none). */
export function subscribe() {
  const open = Object.entries(PANELS).filter(([, id]) => $(id).open).map(([name]) => name);
  send({ type: "lens", open, directions: $("landscape-directions").value });
}

/** A new network: nothing computed for the old one stays on the page. */
export function clearLens() {
  lens.data = null;
  lens.lr = null;
  $("landscape-info").textContent = "Open while training or paused: the loss around the weights now.";
  setupCanvas($("landscape-canvas"));
  for (const id of ["gradnorm-canvas", "update-canvas"]) setupCanvas($(id));
  $("gradients-legend").textContent = "";
  $("saturation-layers").textContent = "";
  $("diagnosis-list").textContent = "";
  $("diagnosis-note").textContent = "Train for a few epochs: the diagnosis reads the loss curves.";
  $("lr-find-canvas").hidden = true; // no empty chart before a range test
  $("lr-find-result").textContent = "";
  $("lr-find-use").hidden = true;
  $("lr-find-button").disabled = false;
}

/** A frame's `lens` part: the open panels' data for the network of that frame. */
export function onLens(data) {
  if (data.network !== app.network) return;
  if (data.error) { // the server closed the panels: say why
    $("landscape-info").textContent = $("diagnosis-note").textContent = data.error;
    for (const id of Object.values(PANELS)) $(id).open = false;
    return;
  }
  lens.data = data;
  if (data.landscape) drawLandscape(data.landscape, data);
  if (data.gradients) drawGradients(data.gradients);
  if (data.saturation) renderSaturation(data.saturation);
  if (data.diagnosis) renderDiagnosis(data.diagnosis);
  $("lens-heading").dataset.live = String(data.live); // whether the panels show a training or a paused network
}

/** The `lr_find` reply: loss against learning rate, the suggestion and a button that sets it. */
export function onLrFind(msg) {
  $("lr-find-button").disabled = false;
  if (msg.network !== app.network) return;
  lens.lr = msg;
  drawLrFind(msg);
  const diverged = msg.divergedAt != null ? ` The loss blew up at ${fmt(msg.divergedAt, 2)}.` : "";
  $("lr-find-result").textContent = `Steepest descent at learning rate ${fmt(msg.suggestion, 2)}: the playground's nearest is ${fmt(msg.rate)}.${diverged}`;
  $("lr-find-use").textContent = `Use learning rate ${fmt(msg.rate)}`;
  $("lr-find-use").hidden = false;
}

export function onLensError() {
  $("lr-find-button").disabled = false;
}

// ---------------------------------------------------------------------------------------------- landscape

// Colours from low loss (dark blue) to high (light): the heat map's bands are its contours.
const RAMP = [[8, 48, 107], [8, 81, 156], [33, 113, 181], [66, 146, 198], [107, 174, 214], [158, 202, 225], [198, 219, 239], [222, 235, 247], [247, 251, 255], [255, 245, 235]];
const BANDS = RAMP.length;

function drawLandscape(L, data) {
  const canvas = $("landscape-canvas");
  const { ctx, w, h } = setupCanvas(canvas);
  if (L.error) {
    $("landscape-info").textContent = L.error;
    canvas.setAttribute("aria-label", `Loss landscape: ${L.error}`);
    return;
  }
  const n = L.resolution;
  const logs = L.losses.flat().map((v) => (v == null || v <= 0 ? null : Math.log10(v)));
  const finite = logs.filter((v) => v != null);
  const lo = Math.min(...finite), hi = Math.max(...finite);
  const band = (v) => (v == null ? BANDS - 1 : Math.min(BANDS - 1, Math.floor(((v - lo) / (hi - lo || 1)) * BANDS)));
  const m = { l: 30, r: 8, t: 8, b: 26 };
  const pw = w - m.l - m.r, ph = h - m.t - m.b;
  const span = L.alphas[n - 1];
  const X = (a) => m.l + ((a + span) / (2 * span)) * pw;
  const Y = (b) => m.t + ((span - b) / (2 * span)) * ph;
  const cw = pw / n, ch = ph / n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const [r, g, b] = RAMP[band(logs[i * n + j])];
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(m.l + j * cw, m.t + (n - 1 - i) * ch, Math.ceil(cw), Math.ceil(ch)); // row i = β_i, β up
    }
  // The trajectory (the weights at the recorded epochs) projected on the plane, from the start (ring) to now.
  const path = (L.path || []).filter((p) => p[0] != null && p[1] != null);
  if (path.length) {
    ctx.strokeStyle = "#f59322";
    ctx.lineWidth = 2;
    ctx.beginPath();
    path.forEach(([a, b], k) => (k ? ctx.lineTo(X(a), Y(b)) : ctx.moveTo(X(a), Y(b))));
    ctx.lineTo(X(0), Y(0));
    ctx.stroke();
    ctx.fillStyle = "#f59322";
    for (const [a, b] of path) ctx.fillRect(X(a) - 1.5, Y(b) - 1.5, 3, 3);
    ctx.beginPath();
    ctx.arc(X(path[0][0]), Y(path[0][1]), 5, 0, 2 * Math.PI);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
  ctx.beginPath(); // the current weights: the centre
  ctx.arc(X(0), Y(0), 5, 0, 2 * Math.PI);
  ctx.fillStyle = "#a40000";
  ctx.fill();
  ctx.strokeStyle = "#fff";
  ctx.stroke();
  ctx.fillStyle = "#333";
  ctx.font = "11px sans-serif";
  ctx.textAlign = "center";
  ctx.fillText(`α (${L.directions === "pca" ? "1st principal direction" : "random direction 1"})`, m.l + pw / 2, h - 6);
  ctx.fillText(fmt(-span, 2), m.l + 8, h - 16);
  ctx.fillText(fmt(span, 2), w - m.r - 10, h - 16);
  ctx.save();
  ctx.translate(11, m.t + ph / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText("β", 0, 0);
  ctx.restore();
  const [lowest, highest] = ends(10 ** lo, 10 ** hi, fmt);
  const info = `${n}×${n} grid${data.live ? " (live, low resolution while training)" : ""} at epoch ${data.epoch}: loss here ${fmt(L.center, 4)}, lowest ${lowest}, highest ${highest}. Red dot: the weights now; orange: the path since the ring (epoch 0).`;
  $("landscape-info").textContent = info;
  $("landscape-legend-lo").textContent = lowest;
  $("landscape-legend-hi").textContent = highest;
  canvas.dataset.resolution = String(n);
  canvas.setAttribute("aria-label", `Loss landscape, ${info}`);
}

// ---------------------------------------------------------------------------------------------- gradient flow

/** One log-scale chart of a value per layer over the recorded epochs; 0, which a log scale has no place for, is the
 * bottom axis, under a gap below the lowest decade (a gradient that died falls onto it). */
function logChart(canvas, epochs, layers, key, title) {
  const { ctx, w, h } = setupCanvas(canvas);
  const m = { l: 46, r: 10, t: 24, b: 20 };
  ctx.font = "11px sans-serif";
  ctx.fillStyle = "#333";
  ctx.textAlign = "left"; // the context keeps the last drawing's settings
  ctx.fillText(title, m.l, 11);
  axes(ctx, m, w, h);
  const shown = layers.flatMap((l) => l[key]).filter((v) => v != null && v >= 0);
  if (!epochs.length || !shown.length) return;
  const positive = shown.filter((v) => v > 0);
  const gap = positive.length < shown.length ? 14 : 0;
  let lo = 0, hi = 1;
  if (positive.length) {
    lo = Math.floor(Math.log10(Math.min(...positive)));
    hi = Math.max(Math.ceil(Math.log10(Math.max(...positive))), lo + 1);
  }
  const e0 = epochs[0], e1 = Math.max(epochs[epochs.length - 1], e0 + 1);
  const x = (e) => m.l + ((e - e0) / (e1 - e0)) * (w - m.l - m.r);
  const y = (v) => (v > 0 ? h - m.b - gap - ((Math.log10(v) - lo) / (hi - lo)) * (h - m.t - m.b - gap) : h - m.b);
  ctx.fillStyle = "#666";
  ctx.textAlign = "right";
  for (let p = lo; positive.length && p <= hi; p += Math.max(1, Math.ceil((hi - lo) / 4))) {
    ctx.fillText(`1e${p}`, m.l - 4, y(10 ** p) + 3);
    ctx.strokeStyle = "#eee";
    ctx.beginPath();
    ctx.moveTo(m.l + 1, y(10 ** p));
    ctx.lineTo(w - m.r, y(10 ** p));
    ctx.stroke();
  }
  if (gap) ctx.fillText("0", m.l - 4, y(0) + 3);
  ctx.textAlign = "left";
  ctx.fillText(`epoch ${e0}`, m.l, h - 5);
  ctx.textAlign = "right";
  ctx.fillText(`${epochs[epochs.length - 1]}`, w - m.r, h - 5);
  layers.forEach((layer, k) => {
    ctx.strokeStyle = COLORS[k % COLORS.length];
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    layer[key].forEach((v, i) => {
      if (v == null || v < 0) return;
      if (started) ctx.lineTo(x(epochs[i]), y(v));
      else {
        ctx.moveTo(x(epochs[i]), y(v));
        started = true;
      }
    });
    ctx.stroke();
  });
}

function drawGradients(G) {
  logChart($("gradnorm-canvas"), G.epochs, G.layers, "gradNorm", "gradient norm ‖∂J/∂W‖ (log scale)");
  logChart($("update-canvas"), G.epochs, G.layers, "updateRatio", "update / weight ‖ΔW‖ / ‖W‖ (log scale)");
  const last = (l, k) => l[k][l[k].length - 1];
  $("gradients-legend").innerHTML = G.layers
    .map((l, k) => `<li><span class="swatch" style="background:${COLORS[k % COLORS.length]}"></span>${esc(l.name)}: ${fmt(last(l, "gradNorm"), 3)}, ratio ${fmt(last(l, "updateRatio"), 3)}</li>`)
    .join("");
  const text = G.epochs.length ? `Gradient flow over ${G.epochs.length} recorded epochs; last values: ${$("gradients-legend").textContent}` : "No epoch trained yet.";
  $("gradnorm-canvas").setAttribute("aria-label", text);
  $("update-canvas").setAttribute("aria-label", text);
}

// ---------------------------------------------------------------------------------------------- saturation

/** Bars of h.counts over h.edges, the two ends written under them; `what` (what it counts) names the canvas. */
function histogram(canvas, h, color, what) {
  const { ctx, w, h: height } = setupCanvas(canvas);
  const max = Math.max(1, ...h.counts);
  const bw = w / h.counts.length;
  ctx.fillStyle = color;
  h.counts.forEach((c, i) => {
    const bh = (c / max) * (height - 12);
    ctx.fillRect(i * bw, height - 12 - bh, Math.max(1, bw - 1), bh);
  });
  ctx.fillStyle = "#666";
  ctx.font = "9px sans-serif";
  const [lo, hi] = ends(h.edges[0], h.edges[h.edges.length - 1], fmt);
  ctx.textAlign = "left";
  ctx.fillText(lo, 0, height - 2);
  ctx.textAlign = "right";
  ctx.fillText(hi, w, height - 2);
  canvas.setAttribute("aria-label", `histogram of ${what}, from ${lo} to ${hi}`);
}

function renderSaturation(layers) {
  const root = $("saturation-layers");
  if (layers.length === 1 && layers[0].error) {
    root.innerHTML = `<p class="bad">${esc(layers[0].error)}</p>`;
    return;
  }
  const key = layers.map((l) => l.name).join("|");
  if (root.dataset.layers !== key) {
    root.dataset.layers = key;
    root.innerHTML = layers
      .map((l, k) => `<div class="sat-layer">
        <p class="sat-name"><b>${esc(l.name)}</b> <span class="hint" id="sat-act-${k}"></span></p>
        <canvas id="sat-z-${k}" class="sat-hist" role="img"></canvas>
        <canvas id="sat-a-${k}" class="sat-hist" role="img"></canvas>
        <p class="sat-share" id="sat-share-${k}" data-testid="sat-share-${k}"></p></div>`)
      .join("");
  }
  layers.forEach((l, k) => {
    histogram($(`sat-z-${k}`), l.z, "#8a9aa6", `${l.name}'s weighted sums z`);
    histogram($(`sat-a-${k}`), l.a, "#0877bd", `${l.name}'s activations a`);
    $(`sat-act-${k}`).textContent = `${l.activation || "no activation"}: z (grey) and a (blue)`;
    let share = "";
    if (l.activation === "relu") share = `dead ReLUs: ${pct(l.deadUnits)} of the units (z ≤ 0 for every point); ${pct(l.saturatedValues)} of the values are 0`;
    else if (l.activation === "tanh" || l.activation === "sigmoid")
      share = `saturated: ${pct(l.saturatedUnits)} of the units, ${pct(l.saturatedValues)} of the values (slope < 1% of its maximum)`;
    else share = "no activation here (a = z, or logits the loss turns into probabilities): nothing saturates";
    $(`sat-share-${k}`).textContent = share;
  });
}

// ---------------------------------------------------------------------------------------------- diagnosis

function renderDiagnosis(D) {
  $("diagnosis-note").textContent = D.note || "";
  const root = $("diagnosis-list");
  const key = JSON.stringify(D.findings);
  if (root.dataset.key === key) return; // unchanged: keep the buttons (and the focus) where they are
  root.dataset.key = key;
  root.innerHTML = "";
  D.findings.forEach((f, k) => {
    const li = document.createElement("li");
    li.className = `finding finding-${f.kind}`;
    li.dataset.kind = f.kind;
    li.innerHTML = `<h4 class="finding-title">${esc(f.title)}</h4>
      <p><span class="finding-label">Evidence:</span> ${esc(f.evidence)}</p>
      <p><span class="finding-label">Advice:</span> ${esc(f.advice)}</p>`;
    if (f.experiment) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "basic-button experiment";
      b.id = `experiment-${k}`;
      b.textContent = f.experiment.label;
      b.title = `An experiment for: ${f.title}`;
      b.addEventListener("click", () => runExperiment(f.experiment));
      li.appendChild(b);
    }
    root.appendChild(li);
  });
}

function runExperiment(e) {
  if (e.set) setState(e.set);
  else if (e.command && e.command.type === "run_many") $("run-many").click(); // as the Compare runs panel does
  else if (e.command) send(e.command);
}

// ---------------------------------------------------------------------------------------------- lr finder

function drawLrFind(msg) {
  const canvas = $("lr-find-canvas");
  canvas.hidden = false;
  const { ctx, w, h } = setupCanvas(canvas);
  const m = { l: 44, r: 10, t: 10, b: 22 };
  const pts = msg.lrs.map((lr, i) => [lr, msg.smoothed[i], msg.losses[i]]).filter((p) => p[1] != null);
  if (!pts.length) return;
  const lx = (v) => Math.log10(v);
  const x0 = lx(msg.lrs[0]), x1 = lx(msg.lrs[msg.lrs.length - 1]);
  const ys = pts.map((p) => p[1]);
  const lo = Math.min(...ys), hi = Math.min(Math.max(...ys), 4 * lo + 1e-9);
  const X = (v) => m.l + ((lx(v) - x0) / (x1 - x0 || 1)) * (w - m.l - m.r);
  const Y = (v) => h - m.b - ((Math.min(v, hi) - lo) / (hi - lo || 1)) * (h - m.t - m.b);
  axes(ctx, m, w, h);
  ctx.strokeStyle = "#0877bd";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  pts.forEach(([lr, s], i) => (i ? ctx.lineTo(X(lr), Y(s)) : ctx.moveTo(X(lr), Y(s))));
  ctx.stroke();
  ctx.strokeStyle = "#a40000";
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(X(msg.suggestion), m.t);
  ctx.lineTo(X(msg.suggestion), h - m.b);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = "#666";
  ctx.font = "11px sans-serif";
  ctx.textAlign = "right";
  const [low, high] = ends(lo, hi, fmt);
  ctx.fillText(high, m.l - 4, m.t + 8);
  ctx.fillText(low, m.l - 4, h - m.b);
  ctx.textAlign = "center";
  for (let p = Math.ceil(x0); p <= Math.floor(x1); p++) ctx.fillText(`1e${p}`, X(10 ** p), h - 6);
  canvas.setAttribute("aria-label", `Range test: the loss against the step size η (log scale) from ${fmt(msg.lrs[0])} to ${fmt(msg.lrs[msg.lrs.length - 1])}; steepest descent at η = ${fmt(msg.suggestion, 2)}`);
}
