// Renderers for the server's replies beyond TensorFlow Playground: backprop chain, teach steps, run 10×,
// confusion matrix, export downloads. Each takes the reply as PROTOCOL.md describes it and writes DOM.
import { decodeB64, classColor, quantColor } from "./colors.js";

export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
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

const NOTES = {
  dJ_da: "how the loss changes with this neuron's activation (backpropagated)",
  da_dz: "the activation's slope f′(z) at this point",
  dz_dw: "the input a this weight multiplies (1 for a bias)",
};

/** The factors of a `chain` reply, in the chain rule's order: [{name, value, note}]. */
const chainFactors = (msg) => ["dJ_da", "da_dz", "dz_dw"].map((k) => ({ name: pretty(k), value: msg[k], note: NOTES[k] }));

// ∂J/∂a over the next layer's neurons k: Σ_k ∂J/∂z_k · w_k (the multiple-path chain rule).
function pathsHTML(paths) {
  if (!paths.length) return "";
  const sum = paths.reduce((s, p) => s + p.dJ_dz * p.weight, 0);
  return `<details class="paths"><summary>∂J/∂a = Σ<sub>k</sub> ∂J/∂z<sub>k</sub> · w<sub>k</sub> over ${paths.length} path${paths.length > 1 ? "s" : ""}</summary>
    <table class="small-table"><thead><tr><th>to neuron k</th><th>∂J/∂z<sub>k</sub></th><th>w<sub>k</sub></th><th>product</th></tr></thead><tbody>
    ${paths.map((p) => `<tr><td>#${+p.to + 1}</td><td>${fmt(p.dJ_dz, 5)}</td><td>${fmt(p.weight, 5)}</td><td>${fmt(p.dJ_dz * p.weight, 5)}</td></tr>`).join("")}
    <tr class="sum"><th scope="row" colspan="3">sum = ∂J/∂a</th><td>${fmt(sum, 6)}</td></tr></tbody></table></details>`;
}

export function renderChain(root, msg, labels) {
  const factors = chainFactors(msg);
  const { product, gradient: grad } = msg;
  const diff = Math.abs(product - grad);
  const ok = Number.isFinite(diff) && diff <= 1e-6 * Math.max(1, Math.abs(grad));
  const where = labels;
  const rows = factors
    .map(
      (f, i) =>
        `<tr><th scope="row">${esc(f.name)}</th><td data-testid="chain-factor-${i}" data-value="${f.value}">${fmt(f.value, 6)}</td><td class="note">${esc(f.note)}</td></tr>`,
    )
    .join("");
  root.innerHTML = `
    <p class="chain-where">${esc(where)}, training point #${esc(msg.point)}</p>
    <table class="small-table chain-table">
      <tbody>${rows}
      <tr class="sum"><th scope="row">product</th>
        <td id="chain-product" data-testid="chain-product" data-value="${product}">${fmt(product, 6)}</td>
        <td class="note">${factors.map((f) => `<span class="token">${esc(f.name)}</span>`).join(" · ")},
          the chain rule</td></tr>
      <tr class="sum"><th scope="row">autodiff</th>
        <td id="chain-gradient" data-testid="chain-gradient" data-value="${grad}">${fmt(grad, 6)}</td>
        <td class="note">∂J/∂w from glassnet's backward pass</td></tr>
      </tbody>
    </table>
    <p class="${ok ? "ok" : "bad"}" data-testid="chain-match">${ok ? "✓ the chain rule's product equals autodiff's gradient" : `✗ they differ by ${fmt(diff)}`}</p>
    ${pathsHTML(msg.paths)}`;
}

/** A number, a list or a matrix (rows of numbers) of a teach reply, cut short when large. */
function valueHTML(v) {
  if (!Array.isArray(v)) return fmt(v);
  if (!Array.isArray(v[0])) {
    const shown = v.slice(0, 16).map((x) => fmt(x, 3)).join(", ");
    return `[${shown}${v.length > 16 ? `, … (${v.length})` : ""}]`;
  }
  const body = v
    .slice(0, 12)
    .map((r) => `<tr>${r.slice(0, 10).map((x) => `<td>${fmt(x, 3)}</td>`).join("")}${r.length > 10 ? "<td>…</td>" : ""}</tr>`)
    .join("");
  return `<table class="matrix">${body}${v.length > 12 ? `<tr><td>… ${v.length} rows</td></tr>` : ""}</table>`;
}

const TEACH_TEXT = {
  forward: "Forward pass: each layer computes z = W·a + b and a = f(z) for the points of one mini-batch.",
  backward: "Backward pass: the loss's gradient flows back, layer by layer, by the chain rule.",
  update: "Update: each weight moves against its gradient, w ← w − η·∂J/∂w (as the optimizer says).",
};

const layerTitle = (l, n) => (l === n - 1 ? "output layer" : `hidden layer ${l + 1}`);

/** A `teach` reply: forward {batch, inputs, layers: [{z, a}], loss}, backward {gradients: [{W, b}]}, update
 * {layers: [{W, b}], epoch}. */
export function renderTeach(root, msg) {
  const { phase } = msg;
  const parts = [];
  if (phase === "forward") {
    const out = msg.layers[msg.layers.length - 1].a;
    const rows = msg.batch
      .map((p, i) => `<tr><td>${i}</td>${p.map((v) => `<td>${fmt(v, 3)}</td>`).join("")}<td>${out[i].map((v) => fmt(v, 3)).join(", ")}</td></tr>`)
      .join("");
    parts.push(`<p>Mini-batch of ${msg.batch.length} training points:</p>
      <table class="small-table teach-batch"><thead><tr><th>#</th><th>x1</th><th>x2</th><th>label</th><th>output a</th></tr></thead><tbody>${rows}</tbody></table>`);
    parts.push(`<p>Batch loss J = <b data-testid="teach-loss">${fmt(msg.loss, 5)}</b></p>`);
    parts.push(msg.layers.map((L, l) => `<details><summary>${layerTitle(l, msg.layers.length)}: z and a</summary>
      <p>z</p>${valueHTML(L.z)}<p>a</p>${valueHTML(L.a)}</details>`).join(""));
  } else if (phase === "backward") {
    parts.push(msg.gradients.map((g, l) => `<details ${l === msg.gradients.length - 1 ? "open" : ""}><summary>${layerTitle(l, msg.gradients.length)}: ∂J/∂W, ∂J/∂b</summary>
      ${valueHTML(g.W)}${valueHTML(g.b)}</details>`).join(""));
  } else {
    parts.push(`<p>New weights (epoch ${msg.epoch}):</p>` +
      msg.layers.map((L, l) => `<details><summary>${layerTitle(l, msg.layers.length)}: W, b</summary>${valueHTML(L.W)}${valueHTML(L.b)}</details>`).join(""));
  }
  root.innerHTML = `<p class="teach-phase" data-testid="teach-phase">${esc(phase)}</p>
    <p class="hint">${esc(TEACH_TEXT[phase])}</p>${parts.join("")}`;
}

export function renderRuns(root, msg) {
  const { runs } = msg;
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
