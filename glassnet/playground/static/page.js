// The page's state (one object every module shares) and the small helpers every module uses. The server's
// schema (GET /api/defaults, see PROTOCOL.md) is the one source of keys, values and limits: nothing here repeats it.

export const $ = (id) => document.getElementById(id);
export const setText = (id, text) => {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
};

const LABELS = {
  relu: "ReLU", tanh: "Tanh", sigmoid: "Sigmoid", linear: "Linear", softmax: "softmax", none: "None",
  binary: "Classification", regression: "Regression", multiclass: "Multi-class (3)",
  sgd: "SGD", momentum: "Momentum", adam: "Adam", adagrad: "Adagrad", adadelta: "Adadelta", rmsprop: "RMSprop",
  mse: "Squared error", crossentropy: "Cross-entropy",
};
export const LOSS_TEXT = { mse: "squared error", crossentropy: "cross-entropy", bce: "binary cross-entropy" };
export const label = (v) => LABELS[v] ?? String(v);

export const fmtEpoch = (n) => String(Math.max(0, n | 0)).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
export const fmtLoss = (v) => (v == null ? "–" : v.toFixed(3));

export const app = {
  defaults: null, // the default state, from /api/defaults
  keys: null, // every state key's description (values, or min/max/step), from /api/defaults
  limitsOf: null, // {normal, expert}: each {layers: [lo, hi], neurons: [lo, hi], batchSize: [lo, hi]}
  lessons: {}, // name → {title, text}
  hideable: [], // the controls a teacher can hide with <name>_hide
  state: null, // the server's latest state
  limits: null, // the limits in force
  head: null,
  initSeed: null,
  network: null, // the server's number of the network drawn: a new one makes every panel stale
  data: null,
  frame: null, // latest frame only
  drawnId: null, // id of the frame drawn last (Pause goes back to it)
  pausing: false, // a pause is on its way: frames still playing are not drawn
  outputMap: null, // latest output map received while no neuron had the focus
  history: [],
  playing: false,
  stats: { draws: 0, drawMs: 0 },
  curvesAt: -1e9,
  playToggledAt: -1e9,
  point: [0, 0],
  hover: null, // hovered node info
  override: null, // map shown in the big heat map instead of the frame's output (hover)
  focusSent: null,
  teachBatch: null,
  uploadPending: false,
  dirty: { frame: true, data: true, state: true },
  ws: null,
  queue: [],
};
window.__playground = app; // for debugging from the console (and benchmarks: app.receive(message) replays one)

/** The limits of one mode as the server states them ({maxLayers, maxNeurons, maxBatchSize}) as ranges. */
export const limitRanges = (l) => ({ layers: [0, l.maxLayers], neurons: [1, l.maxNeurons], batchSize: [1, l.maxBatchSize] });

/** A control's text as the state key's value (the key's default says its type). */
export function typed(key, v) {
  const d = app.defaults[key];
  if (typeof d === "boolean") return v === true || v === "true";
  if (typeof d === "number") return v === "" || isNaN(+v) ? v : +v;
  if (Array.isArray(d)) {
    if (Array.isArray(v)) return v;
    if (v === "") return [];
    const parts = String(v).split(",");
    return key === "layerActivations" ? parts : parts.map((p) => (p === "" || isNaN(+p) ? p : +p));
  }
  return v;
}

/** The URL hash's key → text pairs (the server reads the text itself). */
export function parseHash(hash) {
  const out = {};
  const dec = (x) => {
    try {
      return decodeURIComponent(x);
    } catch {
      return x;
    }
  };
  for (const part of (hash || "").replace(/^#/, "").split("&")) {
    if (!part) continue;
    const i = part.indexOf("=");
    out[dec(i < 0 ? part : part.slice(0, i))] = i < 0 ? "true" : dec(part.slice(i + 1));
  }
  return out;
}

export function fillSelect(sel, values, fmtLabel = label) {
  sel.innerHTML = "";
  for (const v of values) {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = fmtLabel(v);
    sel.appendChild(o);
  }
}
