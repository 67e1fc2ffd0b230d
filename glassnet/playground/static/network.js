// The network drawing: feature thumbnails, hidden neurons (30×30 thumbnails), output node(s), curved links
// (cubic curves, width 1 + 1.8|w| capped at 10, colour by weight, dashes that flow with the epochs), bias squares,
// and the hover card. The links are drawn on one canvas each frame (hundreds of SVG paths restyled every frame
// cost the browser more than the drawing); SVG copies of their curves, never restyled, take hover and clicks.
import { scaleColor, drawMap, decodeMap, mapFromFunction, FEATURES, classColor } from "./colors.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const RECT = 30; // node size, px
const BIAS = 5; // bias square, px
const OUT_HALF = 6; // half an output node's height, px: its links end at its middle
const HEAD = 110; // room above the nodes for the headings and the per-layer +/- controls (and activation)
const FEAT_X = 92; // left edge of the feature column's nodes

const el = (tag, attrs = {}, parent = null) => {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k === "html") e.innerHTML = v;
    else e.setAttribute(k, v);
  }
  if (parent) parent.appendChild(e);
  return e;
};
const fmt2 = (v) => (Number.isFinite(+v) ? String(Number((+v).toPrecision(2))) : "–");
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// Inactive features are drawn from their formula (they are not in the frame).
const FEATURE_MAPS = Object.fromEntries(FEATURES.map((f) => [f.key, mapFromFunction(f.f, 20)]));

export class NetworkView {
  /**
   * @param root element to draw into (position: relative)
   * @param h handlers: toggleFeature(key), addLayer(), removeLayer(), addNeuron(l), removeNeuron(l),
   *          hoverNode(info | null), clickLink(info), editWeight(info, value)
   */
  constructor(root, h) {
    this.root = root;
    this.h = h;
    this.topoKey = null;
    this.links = []; // links[l][i][j] = {sx, sy, mx, tx, ty, color, width}
    this.biases = []; // biases[l][i] = rect
    this.thumbs = { features: {}, hidden: [] };
    this.frame = null;
    this.card = null;
    this.editing = null;
    this.hoverInfo = null;
  }

  /** Rebuild the drawing when the set of nodes changes; topo = {features: {key: bool}, shape: [..], outputs, limits}. */
  setTopology(topo) {
    // One output (as TFP's): its links run into the big map, to `outputAnchor`'s point (in this drawing's pixels).
    this.anchor = topo.outputs === 1 && this.h.outputAnchor ? this.h.outputAnchor(this.root) : null;
    const key = JSON.stringify([topo.features, topo.shape, topo.outputs, topo.limits, topo.layers,
      this.root.clientWidth, this.anchor]);
    if (key === this.topoKey) return false;
    this.topoKey = key;
    this.topo = topo;
    this.build();
    if (this.frame) this.update(this.frame, this.discretize, true);
    return true;
  }

  layout() {
    const { shape, outputs } = this.topo;
    const width = Math.max(420, this.root.clientWidth || 640);
    const outX = this.anchor ? this.anchor.x : width - 18; // the map's edge, or small squares at the right edge
    const n = shape.length;
    const maxNodes = Math.max(FEATURES.length, outputs, ...shape);
    const spacing = maxNodes <= 10 ? 55 : Math.max(38, Math.round(550 / maxNodes));
    const a = FEAT_X + RECT, b = outX;
    const hiddenX = shape.map((_, i) => Math.round(a + ((i + 1) * (b - a)) / (n + 1) - RECT / 2));
    const height = HEAD + (maxNodes - 1) * spacing + RECT + 24;
    const outY = this.anchor ? this.anchor.y - OUT_HALF : null;
    return { width, height, spacing, hiddenX, outX, outY };
  }

  build() {
    const { features, shape, outputs, limits, layers = [] } = this.topo;
    const L = this.layout();
    this.L = L;
    this.root.innerHTML = "";
    this.root.style.height = `${L.height}px`;
    this.links = [];
    this.biases = [];
    this.thumbs = { features: {}, hidden: [] };
    const y = (i) => HEAD + i * L.spacing;

    // Headings: FEATURES on the left, "+ − N HIDDEN LAYERS" centred over the hidden layers.
    const fh = el("div", { class: "net-heading features-heading" }, this.root);
    el("h4", { text: "Features" }, fh);
    el("p", { class: "hint", text: "The inputs: click one to switch it." }, fh);
    const midL = shape.length ? L.hiddenX[0] : FEAT_X + 120, midR = shape.length ? L.hiddenX[shape.length - 1] + RECT : L.outX;
    const lh = el("div", { class: "net-heading layers-heading ui-numHiddenLayers" }, this.root);
    lh.style.left = `${Math.max(FEAT_X + 150, (midL + midR) / 2 - 110)}px`;
    const addL = el("button", { class: "round-btn", type: "button", "aria-label": "Add a hidden layer", id: "add-layer", text: "+" }, lh);
    const remL = el("button", { class: "round-btn", type: "button", "aria-label": "Remove a hidden layer", id: "remove-layer", text: "−" }, lh);
    el("span", { class: "layers-count", id: "num-layers", text: String(shape.length) }, lh);
    el("span", { class: "layers-label", text: shape.length === 1 ? "Hidden layer" : "Hidden layers" }, lh);
    addL.disabled = shape.length >= limits.layers[1];
    remL.disabled = shape.length <= limits.layers[0];
    addL.onclick = () => this.h.addLayer();
    remL.onclick = () => this.h.removeLayer();
    if (shape.length) {
      const br = el("div", { class: "layers-bracket" }, this.root);
      br.style.left = `${L.hiddenX[0] - 40}px`;
      br.style.width = `${L.hiddenX[shape.length - 1] - L.hiddenX[0] + RECT + 80}px`;
    }

    // Per-layer +/- and "k neurons".
    shape.forEach((k, l) => {
      const c = el("div", { class: "layer-controls", "data-layer": l }, this.root);
      c.style.left = `${L.hiddenX[l] + RECT / 2 - 40}px`;
      const add = el("button", { class: "round-btn small", type: "button", "aria-label": `Add a neuron to hidden layer ${l + 1}`, text: "+" }, c);
      const rem = el("button", { class: "round-btn small", type: "button", "aria-label": `Remove a neuron from hidden layer ${l + 1}`, text: "−" }, c);
      const gap = shape.length > 1 ? L.hiddenX[1] - L.hiddenX[0] : 999;
      el("div", { class: "neuron-count", text: gap >= 80 ? plural(k, "neuron", "neurons") : String(k), title: plural(k, "neuron", "neurons") }, c);
      // What this layer does: its activation, and its dropout rate when it has one.
      const { activation = "", dropout = 0 } = layers[l] || {};
      el("div", { class: "layer-info", "data-testid": `layer-info-${l}`, text: `${activation}${dropout ? ` · drop ${dropout}` : ""}` }, c);
      add.disabled = k >= limits.neurons[1];
      rem.disabled = k <= limits.neurons[0];
      add.onclick = () => this.h.addNeuron(l);
      rem.onclick = () => this.h.removeNeuron(l);
    });

    // The links' canvas, then an SVG for their hover/click areas and the biases, under the node elements.
    const dpr = window.devicePixelRatio || 1;
    this.canvas = el("canvas", { class: "links", width: Math.round(L.width * dpr), height: Math.round(L.height * dpr),
      "aria-hidden": "true" }, this.root);
    Object.assign(this.canvas.style, { width: `${L.width}px`, height: `${L.height}px` });
    this.dpr = dpr;
    const svg = el("svg:svg", { class: "links", width: L.width, height: L.height, "aria-hidden": "true" }, this.root);
    const gHits = el("svg:g", {}, svg);
    const gBias = el("svg:g", {}, svg);

    // Node positions per network layer: inputs (active features only), hidden layers, outputs.
    const active = FEATURES.filter((f) => features[f.key]);
    const featRow = Object.fromEntries(FEATURES.map((f, i) => [f.key, i]));
    const cols = [active.map((f) => ({ x: FEAT_X, y: y(featRow[f.key]) }))];
    shape.forEach((k, l) => cols.push(Array.from({ length: k }, (_, i) => ({ x: L.hiddenX[l], y: y(i) }))));
    const outRow = (i) => (L.outY ?? y(i));
    cols.push(Array.from({ length: outputs }, (_, i) => ({ x: L.outX, y: outRow(i), out: true })));
    this.cols = cols;

    // Links: layer l connects cols[l] (inputs) to cols[l + 1] (outputs), W is out × in. Very big (expert)
    // networks get no hover/click areas on their links (the backprop inspector's selects still reach every weight).
    let total = 0;
    for (let l = 0; l + 1 < cols.length; l++) total += cols[l].length * cols[l + 1].length;
    const interactive = total <= 3000;
    this.canvas.dataset.links = String(total);
    for (let l = 0; l + 1 < cols.length; l++) {
      const rows = [];
      cols[l + 1].forEach((dst, i) => {
        const row = [];
        cols[l].forEach((src, j) => {
          const sx = src.x + RECT, sy = src.y + RECT / 2;
          const tx = dst.x, ty = dst.out ? dst.y + OUT_HALF : dst.y + RECT / 2;
          const mx = (sx + tx) / 2;
          row.push({ sx, sy, mx, tx, ty, color: "", width: 0 });
          if (!interactive) return;
          const d = `M${sx},${sy}C${mx},${sy} ${mx},${ty} ${tx},${ty}`;
          const hit = el("svg:path", { class: "link-hit", d, "data-layer": l, "data-row": i, "data-col": j }, gHits);
          const info = { layer: l, row: i, col: j };
          hit.addEventListener("mouseenter", (e) => this.showCard(e, info));
          hit.addEventListener("mousemove", (e) => this.moveCard(e));
          hit.addEventListener("mouseleave", () => this.hideCard());
          hit.addEventListener("click", (e) => {
            this.h.clickLink(info);
            this.editCard(e, info);
          });
        });
        rows.push(row);
      });
      this.links.push(rows);
    }

    // Bias squares at each hidden/output node's lower left.
    for (let l = 1; l < cols.length; l++) {
      this.biases.push(
        cols[l].map((n, i) => {
          const by = n.out ? n.y + 2 * OUT_HALF - BIAS + 3 : n.y + RECT - BIAS + 3;
          const r = el("svg:rect", { class: "bias", x: n.x - BIAS - 2, y: by, width: BIAS, height: BIAS, "data-layer": l - 1, "data-row": i }, gBias);
          const info = { layer: l - 1, row: i, col: "bias" };
          r.addEventListener("mouseenter", (e) => this.showCard(e, info));
          r.addEventListener("mousemove", (e) => this.moveCard(e));
          r.addEventListener("mouseleave", () => this.hideCard());
          r.addEventListener("click", (e) => this.editCard(e, info));
          return r;
        }),
      );
    }

    // Feature nodes: every feature is a toggle button; inactive ones are faded and not connected.
    FEATURES.forEach((f, i) => {
      const on = !!features[f.key];
      const wrap = el("div", { class: `feature-row ui-${f.key}`, style: `top:${y(i)}px;` }, this.root);
      el("span", { class: "feature-label", html: f.label, "aria-hidden": "true" }, wrap);
      const b = el("button", {
        class: `node feature${on ? " active" : ""}`, type: "button", "aria-pressed": String(on),
        "aria-label": `${f.name} feature`, "data-feature": f.key, title: `${on ? "Remove" : "Add"} feature ${f.name}`,
      }, wrap);
      b.style.left = `${FEAT_X}px`;
      const c = el("canvas", { width: 20, height: 20 }, b);
      this.thumbs.features[f.key] = c;
      drawMap(c, FEATURE_MAPS[f.key], this.discretize);
      b.addEventListener("click", () => this.h.toggleFeature(f.key));
      const hover = () => this.h.hoverNode({ kind: "feature", key: f.key, map: FEATURE_MAPS[f.key] });
      b.addEventListener("mouseenter", hover);
      b.addEventListener("focus", hover);
      b.addEventListener("mouseleave", () => this.h.hoverNode(null));
      b.addEventListener("blur", () => this.h.hoverNode(null));
    });

    // Hidden neurons.
    shape.forEach((k, l) => {
      const row = [];
      for (let i = 0; i < k; i++) {
        const n = el("div", {
          class: "node neuron", tabindex: "0", role: "button", "aria-pressed": "false", "data-layer": l, "data-index": i,
          "aria-label": `Neuron ${i + 1} of hidden layer ${l + 1}`, title: "Hover to see its map and z, a; click to keep its map shown",
        }, this.root);
        n.style.left = `${L.hiddenX[l]}px`;
        n.style.top = `${y(i)}px`;
        row.push(el("canvas", { width: 20, height: 20 }, n));
        const info = { kind: "hidden", layer: l, index: i, el: n };
        const hover = () => this.h.hoverNode(info);
        n.addEventListener("mouseenter", hover);
        n.addEventListener("focus", hover);
        n.addEventListener("mouseleave", () => this.h.hoverNode(null));
        n.addEventListener("blur", () => this.h.hoverNode(null));
        const pin = () => this.h.pinNode(info);
        n.addEventListener("click", pin);
        n.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            pin();
          }
        });
      }
      this.thumbs.hidden.push(row);
    });

    // Callouts for a first look (hidden with hideText): a neuron's picture, and what the links show.
    if (shape.length) {
      const below = y(shape[0] - 1) + RECT + 12;
      const neuron = el("p", { class: "callout text callout-neuron", text: "Each square is a neuron: its colour at a point is its output there. Hover it to see it large." }, this.root);
      Object.assign(neuron.style, { left: `${L.hiddenX[0] - 10}px`, top: `${below}px` });
      const next = shape.length > 1 ? L.hiddenX[1] : L.outX;
      const links = el("p", { class: "callout text callout-links", text: "Each link is a weight: blue positive, orange negative, thicker for larger." }, this.root);
      Object.assign(links.style, { left: `${(L.hiddenX[0] + RECT + next) / 2 - 20}px`, top: `${below + 64}px` });
      // The callouts are part of the drawing: its column scrolls to them (or grows), never cuts them off.
      const end = Math.max(...[neuron, links].map((p) => p.offsetTop + p.offsetHeight));
      this.root.style.height = `${Math.max(L.height, end + 8)}px`;
    }

    // Output node(s): the big heat map is their picture.
    cols[cols.length - 1].forEach((p, i) => {
      const n = el("div", {
        class: "node output-node", tabindex: "0", role: "img", "data-layer": shape.length, "data-index": i,
        title: "Hover to see its z and a at the chosen point",
        "aria-label": outputs === 1 ? "Output neuron" : `Output neuron for class ${i}`,
      }, this.root);
      n.style.left = `${p.x}px`;
      n.style.top = `${p.y}px`;
      if (outputs > 1) n.style.background = classColor(i);
      const info = { kind: "output", layer: shape.length, index: i, el: n };
      const hover = () => this.h.hoverNode(info);
      n.addEventListener("mouseenter", hover);
      n.addEventListener("focus", hover);
      n.addEventListener("mouseleave", () => this.h.hoverNode(null));
      n.addEventListener("blur", () => this.h.hoverNode(null));
    });

    this.card = el("div", { class: "hovercard", role: "tooltip", id: "hovercard" }, this.root);
    this.card.hidden = true;
  }

  /** Draw a frame's weights, biases and thumbnails. */
  update(frame, discretize = false, force = false) {
    this.frame = frame;
    const rediscretize = discretize !== this.discretize;
    this.discretize = discretize;
    if (!this.topo) return;
    const layers = frame.layers || [];
    for (let l = 0; l < this.links.length; l++) {
      const W = layers[l] && layers[l].W;
      const b = layers[l] && layers[l].b;
      const rows = this.links[l];
      for (let i = 0; i < rows.length; i++) {
        const wr = W && W[i];
        for (let j = 0; j < rows[i].length; j++) {
          const w = wr ? wr[j] : 0;
          const link = rows[i][j];
          link.color = scaleColor(w);
          link.width = Math.min(10, 1 + 1.8 * Math.abs(w));
        }
        const r = this.biases[l] && this.biases[l][i];
        if (r && b) {
          const color = scaleColor(b[i]);
          if (r._color !== color) r.setAttribute("fill", (r._color = color)); // touch the DOM only on a change
        }
      }
    }
    this.drawLinks(-(frame.epoch || 0) / 3);
    // Thumbnails: active features from the frame (in FEATURES order), hidden neurons from frame.neurons.
    const feats = frame.features || [];
    let k = 0;
    for (const f of FEATURES) {
      const c = this.thumbs.features[f.key];
      if (this.topo.features[f.key]) {
        const m = feats[k++];
        drawMap(c, m ? decodeMap(m) : FEATURE_MAPS[f.key], discretize);
      } else if (rediscretize || force) drawMap(c, FEATURE_MAPS[f.key], discretize);
    }
    const neurons = frame.neurons || [];
    this.thumbs.hidden.forEach((row, l) =>
      row.forEach((c, i) => {
        const m = neurons[l] && neurons[l][i];
        if (m) drawMap(c, decodeMap(m), discretize);
      }),
    );
    if (this.hoverInfo && !this.editing) this.card.textContent = this.cardText(this.hoverInfo);
  }

  /** Every link as TFP draws it: dashes 9 on, 1 off, shifted by `dashOffset` (−epoch/3, so they flow). */
  drawLinks(dashOffset) {
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.L.width, this.L.height);
    ctx.globalAlpha = 0.85;
    ctx.setLineDash([9, 1]);
    ctx.lineDashOffset = dashOffset;
    for (const rows of this.links)
      for (const row of rows)
        for (const k of row) {
          ctx.beginPath();
          ctx.moveTo(k.sx, k.sy);
          ctx.bezierCurveTo(k.mx, k.sy, k.mx, k.ty, k.tx, k.ty);
          ctx.strokeStyle = k.color;
          ctx.lineWidth = k.width;
          ctx.stroke();
        }
  }

  /** The current value of a weight or bias, from the latest frame. */
  value(info) {
    const layer = this.frame && this.frame.layers && this.frame.layers[info.layer];
    if (!layer) return NaN;
    return info.col === "bias" ? layer.b[info.row] : layer.W[info.row][info.col];
  }

  /** The 20×20 map of a hidden neuron from the latest frame (decoded), or null. */
  neuronMap(l, i) {
    const m = this.frame && this.frame.neurons && this.frame.neurons[l] && this.frame.neurons[l][i];
    return m ? decodeMap(m) : null;
  }

  cardText(info) {
    return `${info.col === "bias" ? "Bias" : "Weight"} is ${fmt2(this.value(info))}`;
  }

  placeCard(e) {
    const r = this.root.getBoundingClientRect();
    this.card.style.left = `${e.clientX - r.left + 14}px`;
    this.card.style.top = `${e.clientY - r.top - 10}px`;
  }

  showCard(e, info) {
    if (this.editing) return;
    this.hoverInfo = info;
    this.card.textContent = this.cardText(info);
    this.card.hidden = false;
    this.placeCard(e);
  }

  moveCard(e) {
    if (!this.editing) this.placeCard(e);
  }

  hideCard() {
    if (this.editing) return;
    this.hoverInfo = null;
    this.card.hidden = true;
  }

  /** Click on a link or bias: the card turns into a number field that sets the value live (Enter to apply). */
  editCard(e, info) {
    this.editing = info;
    this.card.hidden = false;
    this.card.innerHTML = "";
    const what = info.col === "bias" ? "Bias" : "Weight";
    const lab = el("label", { text: `${what} is ` }, this.card);
    const inp = el("input", { type: "number", step: "0.01", "aria-label": `${what} value`, id: "weight-edit" }, lab);
    inp.value = String(+this.value(info).toPrecision(4));
    this.placeCard(e);
    inp.focus();
    inp.select();
    const close = () => {
      this.editing = null;
      this.hoverInfo = null;
      this.card.hidden = true;
      this.card.textContent = "";
    };
    inp.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        const v = Number(inp.value);
        if (Number.isFinite(v)) this.h.editWeight(info, v);
        close();
      } else if (ev.key === "Escape") close();
    });
    inp.addEventListener("change", () => {
      const v = Number(inp.value);
      if (Number.isFinite(v) && this.editing) this.h.editWeight(info, v);
    });
    inp.addEventListener("blur", () => setTimeout(() => this.editing === info && close(), 150));
  }
}
