// The network drawing's handlers and the inspectors: a neuron's map, z and a at a point, and a weight's chain rule.
import { $, app, fillSelect } from "./page.js";
import { FEATURES, mapFromFunction } from "./colors.js";
import { NetworkView } from "./network.js";
import { fmt } from "./panels.js";
import { send, setState } from "./connection.js";
import { shapeChange } from "./controls.js";

export let net;
const OUTPUT_LINK_DEPTH = 25; // px below the big map's top where the output's links enter it

/** The network drawing, wired to the inspectors and to the commands its buttons send. */
export function createNetworkView() {
  net = new NetworkView($("network"), {
    toggleFeature: (k) => setState({ [k]: !app.state[k] }),
    addLayer: () => shapeChange([...app.state.networkShape, 2]),
    removeLayer: () => shapeChange(app.state.networkShape.slice(0, -1)),
    addNeuron: (l) => shapeChange(app.state.networkShape.map((k, i) => (i === l ? k + 1 : k))),
    removeNeuron: (l) => shapeChange(app.state.networkShape.map((k, i) => (i === l ? k - 1 : k))),
    hoverNode: onHoverNode,
    pinNode: onPinNode,
    clickLink: (info) => {
      $("bp-layer").value = String(info.layer);
      fillBackpropRows();
      $("bp-row").value = String(info.row);
      $("bp-col").value = String(info.col);
      inspectWeight();
    },
    editWeight: (info, value) => send({ type: "set_weight", layer: info.layer, row: info.row, col: info.col, value }),
    // Where the output's links end, as TFP's: in the big map's left edge, a little below its top.
    outputAnchor: (root) => {
      const map = $("heat-canvas").getBoundingClientRect(), r = root.getBoundingClientRect();
      return { x: Math.round(map.left - r.left), y: Math.round(map.top - r.top + OUTPUT_LINK_DEPTH) };
    },
  });
}

export function updateNetworkTopology() {
  const s = app.state;
  const features = Object.fromEntries(FEATURES.map((f) => [f.key, !!s[f.key]]));
  const outputs = s.problem === "multiclass" ? (app.data && app.data.classes > 1 ? app.data.classes : 3) : 1;
  const layers = s.networkShape.map((_, l) => ({
    activation: s.layerActivations[l] || s.activation,
    dropout: +(s.dropout[l] || 0),
  }));
  if (net.setTopology({ features, shape: s.networkShape, outputs, limits: app.limits, layers })) {
    // The nodes were rebuilt: nothing is hovered or pinned any more, the big map shows the output again.
    app.pinned = null;
    app.hover = null;
    app.override = null;
    app.lastInspected = null;
    $("focus-label").textContent = "";
    sendFocus(null);
    app.dirty.frame = true;
    fillBackpropLayers(true);
  }
}

const layerName = (l, n) => (l === 0 ? "input" : l === n ? "output" : `hidden ${l}`);
export function weightLabel(l, i, j) {
  const nL = app.state.networkShape.length + 1;
  const active = FEATURES.filter((f) => app.state[f.key]);
  const from = l === 0 ? (active[j] ? active[j].name : `input ${j + 1}`) : `${layerName(l, nL)} #${+j + 1}`;
  const to = `${layerName(l + 1, nL)} #${i + 1}`;
  return j === "bias" ? `bias of ${to}` : `weight ${from} → ${to}`;
}

function layerSizes() {
  const s = app.state;
  const nIn = FEATURES.filter((f) => s[f.key]).length;
  const outs = s.problem === "multiclass" ? 3 : 1;
  return [nIn, ...s.networkShape, outs];
}

export function fillBackpropLayers(force = false) {
  const sel = $("bp-layer");
  const sizes = layerSizes();
  const key = JSON.stringify(sizes);
  if (!force && sel.dataset.drawn === key) return;
  sel.dataset.drawn = key;
  const old = sel.value;
  sel.innerHTML = "";
  for (let l = 0; l + 1 < sizes.length; l++) {
    const o = document.createElement("option");
    o.value = String(l);
    o.textContent = `${l + 1}: ${layerName(l, sizes.length - 1)} → ${layerName(l + 1, sizes.length - 1)}`;
    sel.appendChild(o);
  }
  if ([...sel.options].some((o) => o.value === old)) sel.value = old;
  fillBackpropRows();
}

export function fillBackpropRows() {
  const sizes = layerSizes();
  const l = +$("bp-layer").value || 0;
  const active = FEATURES.filter((f) => app.state[f.key]);
  const rows = $("bp-row"), cols = $("bp-col");
  const oldR = rows.value, oldC = cols.value;
  fillSelect(rows, Array.from({ length: sizes[l + 1] || 0 }, (_, i) => i), (i) => `${layerName(l + 1, sizes.length - 1)} #${i + 1}`);
  fillSelect(cols, Array.from({ length: sizes[l] || 0 }, (_, j) => j), (j) => (l === 0 ? (active[j] ? active[j].name : `input ${j + 1}`) : `${layerName(l, sizes.length - 1)} #${j + 1}`));
  if ([...rows.options].some((o) => o.value === oldR)) rows.value = oldR;
  if ([...cols.options].some((o) => o.value === oldC)) cols.value = oldC;
}

export function inspectWeight() {
  const layer = +$("bp-layer").value, row = +$("bp-row").value, col = +$("bp-col").value;
  const nTrain = app.data ? app.data.train.length : 0;
  let point = Math.round(+$("bp-point").value) || 0;
  point = Math.max(0, Math.min(point, Math.max(0, nTrain - 1)));
  $("bp-point").value = point;
  $("chain").textContent = "…";
  send({ type: "inspect_weight", layer, row, col, point });
}

export function choosePoint(x1, x2, fromMap) {
  app.point = [x1, x2];
  $("point-x1").value = x1;
  $("point-x2").value = x2;
  // The nearest training point becomes the backprop inspector's point.
  if (fromMap && app.data && app.data.train && app.data.train.length) {
    let best = 0, bd = Infinity;
    app.data.train.forEach((p, i) => {
      const d = (p[0] - x1) ** 2 + (p[1] - x2) ** 2;
      if (d < bd) {
        bd = d;
        best = i;
      }
    });
    $("bp-point").value = best;
  }
  if (app.lastInspected) send({ type: "inspect_neuron", ...app.lastInspected, point: app.point });
  app.dirty.data = true;
}

export function showNeuron(msg) {
  const who = msg.layer != null ? `${layerName(+msg.layer + 1, app.state.networkShape.length + 1)} neuron #${+msg.index + 1}` : "neuron";
  const pt = msg.point || app.point;
  $("neuron-info").innerHTML = `<p>${who}${msg.activation ? ` (${msg.activation})` : ""} at (${fmt(+pt[0], 3)}, ${fmt(+pt[1], 3)}):</p>
    <p>z = <b id="neuron-z" data-value="${msg.z}">${fmt(msg.z, 5)}</b> &nbsp; a = <b id="neuron-a" data-value="${msg.a}">${fmt(msg.a, 5)}</b></p>`;
}

// A clicked hidden neuron stays in the big heat map until it is clicked again (or another one is).
function onPinNode(info) {
  const same = app.pinned && app.pinned.layer === info.layer && app.pinned.index === info.index;
  if (app.pinned && app.pinned.el) app.pinned.el.setAttribute("aria-pressed", "false");
  app.pinned = same ? null : info;
  if (app.pinned) info.el.setAttribute("aria-pressed", "true");
  onHoverNode(app.pinned || info);
}

let hoverTimer = null;
function onHoverNode(info) {
  if (!info && app.pinned && app.pinned.el.isConnected) info = app.pinned;
  else if (app.pinned && !app.pinned.el.isConnected) app.pinned = null;
  app.hover = info;
  clearTimeout(hoverTimer);
  if (!info) {
    app.override = null;
    $("focus-label").textContent = "";
    hoverTimer = setTimeout(() => sendFocus(null), 60);
  } else if (info.kind === "feature") {
    app.featureBig = app.featureBig || {};
    const f = FEATURES.find((x) => x.key === info.key);
    app.override = app.featureBig[info.key] || (app.featureBig[info.key] = mapFromFunction(f.f, 100));
    $("focus-label").textContent = `Showing feature ${f.name}`;
    hoverTimer = setTimeout(() => sendFocus(null), 60);
  } else if (info.kind === "hidden") {
    app.override = net.neuronMap(info.layer, info.index); // until a frame with the full map arrives
    $("focus-label").textContent = `Showing layer ${info.layer + 1}, neuron ${info.index + 1}`;
    hoverTimer = setTimeout(() => {
      sendFocus([info.layer, info.index]);
      app.lastInspected = { layer: info.layer, index: info.index };
      send({ type: "inspect_neuron", layer: info.layer, index: info.index, point: app.point });
    }, 60);
  } else {
    app.override = null;
    $("focus-label").textContent = "";
    hoverTimer = setTimeout(() => {
      sendFocus(null);
      app.lastInspected = { layer: info.layer, index: info.index };
      send({ type: "inspect_neuron", layer: info.layer, index: info.index, point: app.point });
    }, 60);
  }
  app.dirty.frame = true;
}

function sendFocus(neuron) {
  if (JSON.stringify(neuron) === JSON.stringify(app.focusSent)) return;
  app.focusSent = neuron;
  send({ type: "focus", neuron });
}
