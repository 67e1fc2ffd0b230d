// Renderers for the server's replies beyond TensorFlow Playground: backprop chain, teach steps, run 10×,
// confusion matrix, export downloads. Each takes the reply as PROTOCOL.md describes it and writes DOM.
import { decodeB64, classColor, quantColor } from "./colors.js";

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
export const fmt = (v, p = 4) => {
  if (v == null || v === "") return "–";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(p - 1) : String(+v.toPrecision(p));
  }
  return esc(v);
};
const pct = (v) => (v == null || !Number.isFinite(v) ? "–" : `${(100 * v).toFixed(1)}%`);
const pretty = (k) =>
  ({ dJ_da: "∂J/∂a", da_dz: "∂a/∂z", dz_dw: "∂z/∂w", dJ_dz: "∂J/∂z", dJ_dw: "∂J/∂w" })[k] || k;

// A factor may come as one value per example; the inspector asks for one training point.
const one = (v) => (Array.isArray(v) ? (v.length === 1 ? one(v[0]) : v.reduce((a, b) => a + one(b), 0)) : v == null ? NaN : +v);

const NOTES = {
  dJ_da: "how the loss changes with this neuron's activation (backpropagated)",
  da_dz: "the activation's slope f′(z) at this point",
  dz_dw: "the input a this weight multiplies (1 for a bias)",
};

/** Normalise the factor list of a `chain` reply: [{name, value, note?}]. */
function chainFactors(msg) {
  let f = msg.factors ?? msg.chain ?? msg.terms;
  const names = ["∂J/∂a", "∂a/∂z", "∂z/∂w"];
  if (Array.isArray(f)) {
    return f.map((x, i) =>
      typeof x === "number"
        ? { name: names[i] || `factor ${i + 1}`, value: x }
        : Array.isArray(x)
          ? { name: String(x[0]), value: one(x[1]) }
          : { name: x.name ?? x.label ?? x.symbol ?? names[i] ?? `factor ${i + 1}`, value: one(x.value ?? x.v), note: x.note ?? x.description ?? x.meaning },
    );
  }
  if (f && typeof f === "object")
    return Object.entries(f).map(([k, v]) => ({ name: pretty(k), value: one(v && typeof v === "object" && !Array.isArray(v) ? v.value : v) }));
  // No factor list: the fields themselves (dJ_da, da_dz, dz_dw).
  if (msg.dJ_da != null) return ["dJ_da", "da_dz", "dz_dw"].map((k) => ({ name: pretty(k), value: one(msg[k]), note: NOTES[k] }));
  return [];
}

// ∂J/∂a over the next layer's neurons k: Σ_k ∂J/∂z_k · w_k (the multiple-path chain rule).
function pathsHTML(paths) {
  if (!Array.isArray(paths) || !paths.length) return "";
  const sum = paths.reduce((s, p) => s + p.dJ_dz * p.weight, 0);
  return `<details class="paths"><summary>∂J/∂a = Σ<sub>k</sub> ∂J/∂z<sub>k</sub> · w<sub>k</sub> over ${paths.length} path${paths.length > 1 ? "s" : ""}</summary>
    <table class="small-table"><thead><tr><th>to neuron k</th><th>∂J/∂z<sub>k</sub></th><th>w<sub>k</sub></th><th>product</th></tr></thead><tbody>
    ${paths.map((p) => `<tr><td>#${+p.to + 1}</td><td>${fmt(p.dJ_dz, 5)}</td><td>${fmt(p.weight, 5)}</td><td>${fmt(p.dJ_dz * p.weight, 5)}</td></tr>`).join("")}
    <tr class="sum"><th scope="row" colspan="3">sum = ∂J/∂a</th><td>${fmt(sum, 6)}</td></tr></tbody></table></details>`;
}

export function renderChain(root, msg, labels) {
  const factors = chainFactors(msg);
  const product = one(msg.product ?? factors.reduce((p, f) => p * f.value, 1));
  const grad = one(msg.gradient ?? msg.autodiff ?? msg.grad);
  const diff = Math.abs(product - grad);
  const ok = Number.isFinite(diff) && diff <= 1e-6 * Math.max(1, Math.abs(grad));
  const where = labels || `layer ${msg.layer}, row ${msg.row}, col ${msg.col}`;
  const rows = factors
    .map(
      (f, i) =>
        `<tr><th scope="row">${esc(f.name)}</th><td data-testid="chain-factor-${i}" data-value="${f.value}">${fmt(f.value, 6)}</td>${
          f.note ? `<td class="note">${esc(f.note)}</td>` : "<td></td>"
        }</tr>`,
    )
    .join("");
  root.innerHTML = `
    <p class="chain-where">${esc(where)}${msg.point != null ? `, training point #${esc(msg.point)}` : ""}</p>
    <table class="small-table chain-table">
      <tbody>${rows}
      <tr class="sum"><th scope="row">product ${factors.map((f) => esc(f.name)).join(" · ")}</th>
        <td id="chain-product" data-testid="chain-product" data-value="${product}">${fmt(product, 6)}</td><td></td></tr>
      <tr class="sum"><th scope="row">autodiff gradient ∂J/∂w</th>
        <td id="chain-gradient" data-testid="chain-gradient" data-value="${grad}">${fmt(grad, 6)}</td><td></td></tr>
      </tbody>
    </table>
    <p class="${ok ? "ok" : "bad"}" data-testid="chain-match">${ok ? "✓ the chain rule's product equals autodiff's gradient" : `✗ they differ by ${fmt(diff)}`}</p>
    ${pathsHTML(msg.paths)}`;
}

/** Small matrix/list/number rendering for teach replies. */
function valueHTML(v, depth = 0) {
  if (v == null) return "–";
  if (typeof v !== "object") return fmt(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    if (v.every((x) => typeof x !== "object")) {
      const shown = v.slice(0, 16).map((x) => fmt(x, 3)).join(", ");
      return `[${shown}${v.length > 16 ? `, … (${v.length})` : ""}]`;
    }
    if (v.every((r) => Array.isArray(r) && r.every((x) => typeof x !== "object"))) {
      const body = v
        .slice(0, 12)
        .map((r) => `<tr>${r.slice(0, 10).map((x) => `<td>${fmt(x, 3)}</td>`).join("")}${r.length > 10 ? "<td>…</td>" : ""}</tr>`)
        .join("");
      return `<table class="matrix">${body}${v.length > 12 ? `<tr><td>… ${v.length} rows</td></tr>` : ""}</table>`;
    }
    if (depth > 2) return `[${v.length} items]`;
    return `<ol class="teach-list" start="0">${v.slice(0, 8).map((x) => `<li>${valueHTML(x, depth + 1)}</li>`).join("")}${v.length > 8 ? `<li>…</li>` : ""}</ol>`;
  }
  if (depth > 2) return "{…}";
  return `<dl class="teach-dl">${Object.entries(v)
    .map(([k, x]) => `<dt>${esc(k)}</dt><dd>${valueHTML(x, depth + 1)}</dd>`)
    .join("")}</dl>`;
}

const TEACH_TEXT = {
  forward: "Forward pass: each layer computes z = W·a + b and a = f(z) for the points of one mini-batch.",
  backward: "Backward pass: the loss's gradient flows back, layer by layer, by the chain rule.",
  update: "Update: each weight moves against its gradient, w ← w − η·∂J/∂w (as the optimizer says).",
};

const layerTitle = (l, n) => (l === n - 1 ? "output layer" : `hidden layer ${l + 1}`);

export function renderTeach(root, msg) {
  const phase = msg.phase || "";
  const parts = [];
  const shown = new Set(["type", "phase"]);
  if (Array.isArray(msg.batch)) {
    shown.add("batch");
    const layers = Array.isArray(msg.layers) && phase === "forward" ? msg.layers : null;
    const out = layers && layers.length ? layers[layers.length - 1].a : null;
    const rows = msg.batch
      .map((p, i) => {
        const o = out && out[i] != null ? (Array.isArray(out[i]) ? out[i].map((v) => fmt(v, 3)).join(", ") : fmt(out[i], 3)) : "";
        return `<tr><td>${i}</td>${(Array.isArray(p) ? p : [p]).map((v) => `<td>${fmt(v, 3)}</td>`).join("")}${out ? `<td>${o}</td>` : ""}</tr>`;
      })
      .join("");
    parts.push(`<p>Mini-batch of ${msg.batch.length} training points:</p>
      <table class="small-table teach-batch"><thead><tr><th>#</th><th>x1</th><th>x2</th><th>label</th>${out ? "<th>output a</th>" : ""}</tr></thead><tbody>${rows}</tbody></table>`);
  }
  if (msg.loss != null) {
    shown.add("loss");
    parts.push(`<p>Batch loss J = <b data-testid="teach-loss">${fmt(msg.loss, 5)}</b></p>`);
  }
  if (phase === "forward" && Array.isArray(msg.layers)) {
    shown.add("layers");
    parts.push(msg.layers.map((L, l) => `<details><summary>${layerTitle(l, msg.layers.length)}: z and a</summary>
      <p>z</p>${valueHTML(L.z)}<p>a</p>${valueHTML(L.a)}</details>`).join(""));
  }
  if (Array.isArray(msg.gradients)) {
    shown.add("gradients");
    parts.push(msg.gradients.map((g, l) => `<details ${l === msg.gradients.length - 1 ? "open" : ""}><summary>${layerTitle(l, msg.gradients.length)}: ∂J/∂W, ∂J/∂b</summary>
      ${valueHTML(g.W)}${valueHTML(g.b)}</details>`).join(""));
  }
  if (phase === "update" && Array.isArray(msg.layers)) {
    shown.add("layers");
    parts.push(`<p>New weights${msg.epoch != null ? ` (epoch ${msg.epoch})` : ""}:</p>` +
      msg.layers.map((L, l) => `<details><summary>${layerTitle(l, msg.layers.length)}: W, b</summary>${valueHTML(L.W)}${valueHTML(L.b)}</details>`).join(""));
    shown.add("epoch");
  }
  const rest = Object.fromEntries(Object.entries(msg).filter(([k]) => !shown.has(k)));
  root.innerHTML = `<p class="teach-phase" data-testid="teach-phase">${esc(phase)}</p>
    <p class="hint">${esc(TEACH_TEXT[phase] || "")}</p>${parts.join("")}${Object.keys(rest).length ? valueHTML(rest) : ""}`;
}

export function renderRuns(root, msg) {
  const runs = msg.runs || [];
  if (!runs.length) {
    root.textContent = "No runs.";
    return;
  }
  const cols = Object.keys(runs[0]);
  const isAcc = (k) => /acc/i.test(k);
  const NAMES = { initSeed: "weights seed", seed: "seed", trainLoss: "train loss", testLoss: "test loss", trainAcc: "train acc.", testAcc: "test acc." };
  const head = cols.map((c) => `<th scope="col">${esc(NAMES[c] || c)}</th>`).join("");
  const body = runs
    .map((r) => `<tr>${cols.map((c) => `<td>${isAcc(c) ? pct(r[c]) : fmt(r[c], 4)}</td>`).join("")}</tr>`)
    .join("");
  // A summary row: mean ± std of the numeric columns other than seeds.
  const stats = cols.map((c) => {
    const xs = runs.map((r) => r[c]).filter((x) => typeof x === "number" && Number.isFinite(x));
    if (/seed/i.test(c) || xs.length === 0) return "";
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const s = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
    return isAcc(c) ? `${pct(m)} ± ${pct(s)}` : `${fmt(m, 3)} ± ${fmt(s, 2)}`;
  });
  root.innerHTML = `${msg.epochs ? `<p class="hint">${runs.length} runs of ${msg.epochs} epochs each.</p>` : ""}<table class="small-table runs-table"><thead><tr>${head}</tr></thead><tbody>${body}
    <tr class="sum">${stats.map((s, i) => (i === 0 ? `<th scope="row">mean ± sd</th>` : `<td>${s}</td>`)).join("")}</tr></tbody></table>`;
}

/** Confusion matrix: rows = true class, columns = predicted class. */
export function renderConfusion(table, confusion, classes) {
  const key = JSON.stringify(confusion);
  if (table._key === key) return; // unchanged: leave the DOM alone
  table._key = key;
  if (!confusion || !confusion.length) {
    table.innerHTML = `<caption class="hint">Classification only.</caption>`;
    return;
  }
  const k = confusion.length;
  const names = k === 2 ? ["−1", "+1"] : Array.from({ length: k }, (_, i) => `class ${i}`);
  const colors = k === 2 ? [quantColor(-1), quantColor(1)] : Array.from({ length: k }, (_, i) => classColor(i));
  const sw = (i) => `<span class="swatch" style="background:${colors[i]}"></span>${names[i]}`;
  const total = confusion.flat().reduce((a, b) => a + b, 0) || 1;
  table.innerHTML = `<thead><tr><th scope="col">true ↓ / predicted →</th>${names.map((_, j) => `<th scope="col">${sw(j)}</th>`).join("")}</tr></thead>
    <tbody>${confusion
      .map(
        (row, i) =>
          `<tr><th scope="row">${sw(i)}</th>${row
            .map((c, j) => `<td class="${i === j ? "diag" : "off"}" data-testid="confusion-${i}-${j}" style="--share:${c / total}">${c}</td>`)
            .join("")}</tr>`,
      )
      .join("")}</tbody>`;
}

/** Save an `export` reply ({filename, mime, base64}) through a Blob URL. */
export function download(msg) {
  const bytes = decodeB64(msg.base64 || "");
  const blob = new Blob([bytes], { type: msg.mime || "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = msg.filename || "download";
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
