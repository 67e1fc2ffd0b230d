// glassnet playground page: builds the controls from GET /api/defaults, talks to the server over one WebSocket
// (/ws, see PROTOCOL.md), keeps only the latest frame and draws it on requestAnimationFrame.
import { decodeMap, drawMap, mapFromFunction, quantColor, classColor, FEATURES } from "./colors.js";
import { NetworkView } from "./network.js";
import { drawLossChart, drawCurves } from "./charts.js";
import { drawDatasetThumb, DATASET_NAMES, PRESETS } from "./datasets.js";
import { renderChain, renderTeach, renderRuns, renderConfusion, download, fmt } from "./panels.js";

const $ = (id) => document.getElementById(id);
const setText = (id, text) => {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
};

// What PROTOCOL.md says, used only if /api/defaults cannot be read or leaves something out.
const FALLBACK = {
  state: {
    problem: "classification", dataset: "circle", regDataset: "reg-plane", percTrainData: 50, noise: 0, batchSize: 10,
    x: true, y: true, xSquared: false, ySquared: false, xTimesY: false, sinX: false, sinY: false,
    networkShape: [4, 2], learningRate: 0.03, activation: "tanh", layerActivations: [], regularization: "none",
    regularizationRate: 0, optimizer: "sgd", loss: "mse", dropout: [], earlyStopping: false, patience: 50,
    stopAfterEpochs: 0, stopAtLoss: 0, expert: false, seed: 0, showTestData: false, discretize: false,
  },
  values: {
    problem: ["classification", "regression", "multiclass"],
    dataset: ["circle", "xor", "gauss", "spiral", "sine", "spiral3"],
    regDataset: ["reg-plane", "reg-gauss"],
    learningRate: [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
    activation: ["relu", "tanh", "sigmoid", "linear"],
    regularization: ["none", "L1", "L2"],
    regularizationRate: [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
    optimizer: ["sgd", "momentum", "adam", "adagrad", "adadelta", "rmsprop"],
    loss: ["mse", "crossentropy"],
  },
  ranges: { percTrainData: [10, 90, 10], noise: [0, 50, 5], batchSize: [1, 30, 1], patience: [1, 1000, 1], dropout: [0, 0.5, 0.05] },
  limits: { layers: [0, 6], neurons: [1, 8], batchSize: [1, 30] },
  expertLimits: { layers: [0, 10], neurons: [1, 32], batchSize: [1, 256] },
};

const LABELS = {
  relu: "ReLU", tanh: "Tanh", sigmoid: "Sigmoid", linear: "Linear", softmax: "softmax", none: "None",
  classification: "Classification", regression: "Regression", multiclass: "Multi-class (3)",
  sgd: "SGD", momentum: "Momentum", adam: "Adam", adagrad: "Adagrad", adadelta: "Adadelta", rmsprop: "RMSprop",
  mse: "Squared error", crossentropy: "Cross-entropy",
};
const LOSS_TEXT = { mse: "squared error", crossentropy: "cross-entropy", bce: "binary cross-entropy" };
const label = (v) => LABELS[v] ?? String(v);

// ---------------------------------------------------------------------------------------------------------
// Page state
const app = {
  defaults: FALLBACK.state,
  values: FALLBACK.values,
  ranges: FALLBACK.ranges,
  limitsNormal: FALLBACK.limits,
  limitsExpert: FALLBACK.expertLimits,
  state: { ...FALLBACK.state },
  limits: FALLBACK.limits,
  head: null,
  initSeed: null,
  data: null,
  frame: null, // latest frame only
  outputMap: null, // latest output map received while no neuron had the focus
  history: [],
  playing: false,
  stats: { draws: 0, drawMs: 0 },
  curvesAt: -1e9,
  playToggledAt: -1e9,
  point: [0, 0],
  lessons: {}, // name → {title, text}, from /api/defaults
  hideable: [], // the controls a teacher can hide, from /api/defaults
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

// ---------------------------------------------------------------------------------------------------------
// Values: typing, hash (de)serialisation
function typed(key, v) {
  const d = key in app.defaults ? app.defaults[key] : FALLBACK.state[key];
  if (typeof d === "boolean") return v === true || v === "true" || (typeof v === "string" && v !== "false" && v !== "");
  if (typeof d === "number" || d == null) return v === "" || isNaN(+v) ? v : +v;
  if (Array.isArray(d)) {
    if (Array.isArray(v)) return v;
    if (v === "") return [];
    const parts = String(v).split(",");
    if (key === "layerActivations") return parts;
    return parts.map((p) => (p === "" || isNaN(+p) ? p : +p));
  }
  return v;
}

/** The hash's key → value pairs; `typed` false keeps the text (the server reads the hash's text itself). */
export function parseHash(hash, asTyped = true) {
  const h = (hash || "").replace(/^#/, "");
  if (!h) return null;
  const out = {};
  for (const part of h.split("&")) {
    if (!part) continue;
    const i = part.indexOf("=");
    const dec = (x) => {
      try {
        return decodeURIComponent(x);
      } catch {
        return x;
      }
    };
    const k = dec(i < 0 ? part : part.slice(0, i));
    const v = i < 0 ? "true" : dec(part.slice(i + 1));
    out[k] = asTyped ? typed(k, v) : v;
  }
  return out;
}

export function serializeHash(state) {
  const enc = (s) => encodeURIComponent(s).replace(/%2C/gi, ",");
  return Object.entries(state)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== "object" || Array.isArray(v))
    .map(([k, v]) => `${enc(k)}=${enc(Array.isArray(v) ? v.join(",") : String(v))}`)
    .join("&");
}

const fmtEpoch = (n) => String(Math.max(0, n | 0)).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const fmtLoss = (v) => (v == null || !Number.isFinite(v) ? "–" : v.toFixed(3));

// ---------------------------------------------------------------------------------------------------------
// /api/defaults: tolerant reading of the value sets and limits
function asRange(v, lo, hi) {
  if (Array.isArray(v)) return [v[0] ?? lo, v[1] ?? hi];
  if (typeof v === "number") return [lo, v];
  if (v && typeof v === "object") return [v.min ?? v.lo ?? lo, v.max ?? v.hi ?? hi];
  return [lo, hi];
}
function normLimits(l, base) {
  if (!l || typeof l !== "object") return base;
  const pick = (names) => names.map((n) => l[n]).find((x) => x != null);
  return {
    layers: asRange(pick(["layers", "hiddenLayers", "numLayers", "numHiddenLayers", "maxLayers", "max_layers"]), base.layers[0], base.layers[1]),
    neurons: asRange(pick(["neurons", "neuronsPerLayer", "maxNeurons", "max_neurons", "width"]), base.neurons[0], base.neurons[1]),
    batchSize: asRange(pick(["batchSize", "batch", "maxBatchSize", "maxBatch", "max_batch"]), base.batchSize[0], base.batchSize[1]),
  };
}

function readDefaults(j) {
  if (!j || typeof j !== "object") return;
  const st = j.state || j.defaults || (j.problem ? j : null);
  if (st) app.defaults = { ...FALLBACK.state, ...Object.fromEntries(Object.entries(st).filter(([, v]) => v != null)) };
  const ranges = { ...FALLBACK.ranges };
  const values = { ...FALLBACK.values };
  // Either {keys: {name: {values} | {min, max, step} | {item: …}}} or {values: {name: [...]}}.
  const keys = j.keys || j.values || j.choices || j.valueSets || j.options || {};
  for (const [k, v] of Object.entries(keys)) {
    if (Array.isArray(v)) values[k] = v;
    else if (v && typeof v === "object") {
      if (Array.isArray(v.values) && typeof app.defaults[k] !== "boolean") values[k] = v.values;
      else if ("min" in v && "max" in v) ranges[k] = [v.min, v.max, v.step ?? ranges[k]?.[2] ?? 1];
      else if (v.item && "min" in v.item) ranges[k] = [v.item.min, v.item.max, ranges[k]?.[2] ?? v.item.step ?? 1];
    }
  }
  app.values = values;
  app.ranges = ranges;
  app.lessons = j.lessons || {};
  app.hideable = j.hideable || [];
  const lim = j.limits || {};
  app.limitsNormal = normLimits(lim.normal || lim, FALLBACK.limits);
  app.limitsExpert = normLimits(j.expertLimits || lim.expert, FALLBACK.expertLimits);
  app.state = { ...app.defaults };
  app.limits = app.limitsNormal;
}

// ---------------------------------------------------------------------------------------------------------
// WebSocket
function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  app.ws = ws;
  ws.onopen = () => {
    $("conn").textContent = "connected";
    document.body.dataset.connected = "true";
    const restore = app.restoreState || app.hashState;
    app.hashState = null;
    if (restore && Object.keys(restore).length) send({ type: "set", state: restore });
    for (const m of app.queue.splice(0)) ws.send(JSON.stringify(m));
    if (app.playing) send({ type: "play" });
  };
  ws.onmessage = (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    onMessage(msg);
  };
  ws.onclose = (ev) => {
    document.body.dataset.connected = "false";
    const busy = ev.code === 1013; // the server serves --max-sessions pages at most
    $("conn").textContent = busy ? `${ev.reason || "server busy"} — retrying in 10 s…` : "disconnected — reconnecting…";
    if (busy) note(ev.reason || "server busy", "error");
    app.restoreState = { ...app.state };
    setTimeout(connect, busy ? 10000 : 1000);
  };
}

function send(msg) {
  const ws = app.ws;
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  else if (msg.type !== "focus" && msg.type !== "inspect_neuron") app.queue.push(msg);
}
const setState = (partial) => send({ type: "set", state: partial });

let noteTimer = null;
function note(text, kind = "info") {
  if (kind !== "info") keepWarning(text, kind);
  const m = $("messages");
  m.textContent = text;
  m.dataset.kind = kind;
  m.hidden = false;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => (m.hidden = true), 8000);
}

// Every warning and error stays in a list in the footer (the toast shows only the latest, for 8 s).
function keepWarning(text, kind) {
  const li = document.createElement("li");
  li.textContent = text;
  li.dataset.kind = kind;
  $("warnings").appendChild(li);
  while ($("warnings").childElementCount > 200) $("warnings").firstElementChild.remove();
  $("warning-count").textContent = String($("warnings").childElementCount);
}

app.receive = (msg) => onMessage(msg);

function onMessage(msg) {
  switch (msg.type) {
    case "state":
      return onState(msg);
    case "data":
      app.data = msg;
      if (app.uploadPending || app.state.dataset === "upload" || app.state.regDataset === "upload") {
        const n = (msg.train || []).length + (msg.test || []).length;
        $("upload-status").textContent = app.uploadPending ? `Loaded ${n} points from your file.` : $("upload-status").textContent;
      } else $("upload-status").textContent = "";
      app.uploadPending = false;
      clearDataPanels();
      app.dirty.data = true;
      $("bp-point").max = Math.max(0, (msg.train || []).length - 1);
      renderDatasets();
      return;
    case "frame":
      return onFrame(msg);
    case "neuron":
      return showNeuron(msg);
    case "chain":
      return renderChain($("chain"), msg, weightLabel(msg.layer, msg.row, msg.col));
    case "teach":
      if (msg.batch) app.teachBatch = msg.batch;
      app.dirty.data = true;
      setTeachPhase(msg.phase === "update" ? null : msg.phase);
      return renderTeach($("teach-out"), msg);
    case "runs":
      $("run-many").disabled = false;
      return renderRuns($("runs"), msg);
    case "export":
      download(msg);
      $("export-status").textContent = `Saved ${msg.filename || "file"}.`;
      return;
    case "warning":
      return note(msg.message || "warning", "warning");
    case "error":
      if (app.uploadPending) {
        app.uploadPending = false;
        $("upload-error").textContent = msg.message || "The upload was refused.";
        $("upload-status").textContent = "";
      } else note(msg.message || "error", "error");
      if (/^teach/.test(msg.message || "")) setTeachPhase(null);
      $("run-many").disabled = false;
      return;
    default:
      return;
  }
}

// The server says whether it is training (`playing` in state and frame messages). Right after the page itself
// pressed play/pause, messages the server sent before it read that command are not believed for a moment.
function syncPlaying(msg) {
  if (typeof msg.playing !== "boolean" || msg.playing === app.playing) return;
  if (performance.now() - app.playToggledAt < 600) return;
  setPlaying(msg.playing);
}

// A new network (reset, new data, features, layers, seed…): no panel may show the old one.
function newNetwork(id) {
  app.network = id;
  app.history = [];
  app.curvesAt = -1e9;
  clearDataPanels();
}

// What was computed for the old network or the old points: the backprop chain, the three steps, the runs, and the
// neuron inspector (asked again for the point chosen).
function clearDataPanels() {
  $("chain").textContent = "";
  $("teach-out").textContent = "";
  $("runs").textContent = "";
  $("run-many").disabled = false;
  $("neuron-info").textContent = "Hover a neuron.";
  app.teachBatch = null;
  setTeachPhase(null);
  if (app.lastInspected && app.lastInspected.layer <= (app.state.networkShape || []).length)
    send({ type: "inspect_neuron", ...app.lastInspected, point: app.point });
}

function onState(msg) {
  const prev = app.state;
  if (msg.network !== app.network) newNetwork(msg.network);
  syncPlaying(msg);
  app.framesSinceState = 0;
  document.body.dataset.framesSinceState = "0";
  app.state = { ...app.defaults, ...(msg.state || {}) };
  app.head = msg.head || app.head;
  if (msg.limits) app.rawLimits = msg.limits;
  if (msg.initSeed != null) app.initSeed = msg.initSeed;
  app.limits = msg.limits ? normLimits(msg.limits, app.state.expert ? app.limitsExpert : app.limitsNormal) : app.state.expert ? app.limitsExpert : app.limitsNormal;
  if (app.uploadPending && (app.state.dataset === "upload" || app.state.regDataset === "upload")) $("upload-error").textContent = "";
  history.replaceState(null, "", `#${typeof msg.hash === "string" ? msg.hash : serializeHash(app.state)}`);
  updateControls(prev);
  setTeachPhase(null); // a new setup or network: the next teaching step starts with Forward
  app.teachBatch = null;
  app.dirty.data = true;
  app.dirty.state = true;
  app.dirty.frame = true;
}

function onFrame(f) {
  if (app.pausing) {
    if (f.playing) return; // sent before the server read our pause
    app.pausing = false;
    app.history = app.history.filter((p) => p.epoch <= f.epoch); // received, not yet drawn, and undone
    app.frame = null; // (it may show a later epoch than this one: that is not a reset)
  }
  if (f.network !== app.network) newNetwork(f.network);
  const last = app.history.length ? app.history[app.history.length - 1].epoch : -1;
  if (app.frame && f.epoch < app.frame.epoch) app.history = [];
  for (const p of f.history || []) {
    const lastEpoch = app.history.length ? app.history[app.history.length - 1].epoch : -1;
    if (p.epoch < lastEpoch || (p.epoch === 0 && lastEpoch >= 0)) app.history = [];
    else if (p.epoch === lastEpoch) app.history.pop();
    app.history.push(p);
  }
  if (!(f.history && f.history.length) && f.epoch !== last && f.trainLoss != null) {
    if (f.epoch < last) app.history = [];
    app.history.push({ epoch: f.epoch, trainLoss: f.trainLoss, testLoss: f.testLoss, trainAcc: f.trainAcc, testAcc: f.testAcc });
  }
  if (app.history.length > 4000) app.history = app.history.filter((_, i) => i % 2 === 0 || i === app.history.length - 1);
  if (!app.focusSent) app.outputMap = f.output;
  app.frame = f;
  app.frames = (app.frames || 0) + 1;
  app.framesSinceState = (app.framesSinceState || 0) + 1;
  document.body.dataset.frames = String(app.frames); // lets tests wait for a frame
  document.body.dataset.framesSinceState = String(app.framesSinceState);
  if (app.hover && app.hover.kind === "hidden" && app.focusSent) app.override = null; // the frame carries the focus map
  if (f.stopped && app.playing) setPlaying(false);
  else syncPlaying(f);
  setText("stopped", f.stopped ? stopText(f.stopped) : "");
  app.dirty.frame = true;
}

// The server's reason is a sentence for the learner; show it with a capital letter.
const stopText = (s) => {
  const t = String(s);
  return /^stop/i.test(t) ? t.charAt(0).toUpperCase() + t.slice(1) : `Stopped: ${t}`;
};

// ---------------------------------------------------------------------------------------------------------
// Controls
function fillSelect(sel, values, fmtLabel = label) {
  sel.innerHTML = "";
  for (const v of values) {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = fmtLabel(v);
    sel.appendChild(o);
  }
}

function setSelect(sel, v) {
  const s = String(v);
  if (![...sel.options].some((o) => o.value === s)) {
    const o = document.createElement("option");
    o.value = s;
    o.textContent = label(v);
    sel.appendChild(o);
  }
  sel.value = s;
}

function buildControls() {
  for (const key of ["learningRate", "activation", "regularization", "regularizationRate", "problem", "optimizer", "loss"]) {
    const sel = $(key);
    fillSelect(sel, app.values[key] || FALLBACK.values[key]);
    sel.addEventListener("change", () => {
      const vals = app.values[key] || FALLBACK.values[key];
      const v = vals.find((x) => String(x) === sel.value) ?? typed(key, sel.value);
      if (key === "problem") return changeProblem(v);
      setState({ [key]: v });
    });
  }
  for (const key of ["percTrainData", "noise", "batchSize"]) {
    const r = $(key);
    const [lo, hi, st] = app.ranges[key] || FALLBACK.ranges[key];
    Object.assign(r, { min: lo, max: hi, step: st });
    r.addEventListener("input", () => ($(`${key}-value`).textContent = r.value));
    r.addEventListener("change", () => setState({ [key]: +r.value }));
  }
  for (const key of ["showTestData", "discretize", "expert", "earlyStopping"]) {
    const c = $(key);
    c.addEventListener("change", () => {
      if (key === "showTestData" || key === "discretize") {
        app.state[key] = c.checked; // draw at once; the server keeps it in the state
        app.dirty.frame = app.dirty.data = true;
      }
      setState({ [key]: c.checked });
    });
  }
  for (const key of ["patience", "stopAfterEpochs", "stopAtLoss"]) {
    const n = $(key);
    if (key === "patience") Object.assign(n, { min: app.ranges.patience[0], max: app.ranges.patience[1] });
    n.addEventListener("change", () => {
      const v = +n.value;
      if (Number.isFinite(v) && v >= 0) setState({ [key]: v });
    });
  }

  $("play-pause-button").addEventListener("click", () => {
    if (app.playing) return pauseHere();
    setPlaying(true, true);
    setTeachPhase(null);
    app.teachBatch = null;
    app.dirty.data = true;
    send({ type: "play" });
  });
  $("next-step-button").addEventListener("click", () => pauseHere("step"));
  $("step-batch-button").addEventListener("click", () => pauseHere("step", { what: "batch" }));
  $("reset-button").addEventListener("click", () => {
    if (app.playing) send({ type: "pause" });
    setPlaying(false, true);
    send({ type: "reset" });
  });
  $("restart-button").addEventListener("click", () => {
    if (app.playing) send({ type: "pause" });
    setPlaying(false, true);
    send({ type: "restart" });
  });
  $("data-regen-button").addEventListener("click", () => send({ type: "regenerate" }));
  fillSelect($("lessons"), ["", ...Object.keys(app.lessons)], (name) => (name ? app.lessons[name].title : "Choose a lesson…"));
  $("lessons").addEventListener("change", () => setState({ tutorial: $("lessons").value }));
  $("lesson-close").addEventListener("click", () => setState({ tutorial: "" }));
  $("warnings-clear").addEventListener("click", () => {
    $("warnings").textContent = "";
    $("warning-count").textContent = "0";
  });

  $("preset").addEventListener("change", () => {
    const list = PRESETS[currentDataset()] || [];
    const p = list[+$("preset").value];
    if (p) setState(p[1]);
    $("preset").value = "";
  });

  $("upload-csv").addEventListener("change", async () => {
    const file = $("upload-csv").files[0];
    if (!file) return;
    $("upload-error").textContent = "";
    const limit = (app.rawLimits && app.rawLimits.maxUploadBytes) || 64 * 1024;
    if (file.size > limit) {
      $("upload-error").textContent = `${file.name}: ${file.size.toLocaleString()} bytes is too large (the limit is ${limit.toLocaleString()} bytes).`;
      $("upload-csv").value = "";
      return;
    }
    const text = await file.text();
    app.uploadPending = true;
    $("upload-status").textContent = `Uploading ${file.name}…`;
    send({ type: "upload", csv: text });
    $("upload-csv").value = "";
  });

  // Inspectors
  const pointChanged = () => {
    const x1 = +$("point-x1").value, x2 = +$("point-x2").value;
    if (Number.isFinite(x1) && Number.isFinite(x2)) choosePoint(x1, x2, false);
  };
  $("point-x1").addEventListener("change", pointChanged);
  $("point-x2").addEventListener("change", pointChanged);
  $("points-canvas").addEventListener("click", (e) => {
    const r = e.currentTarget.getBoundingClientRect();
    const x1 = -6 + (12 * (e.clientX - r.left)) / r.width;
    const x2 = 6 - (12 * (e.clientY - r.top)) / r.height;
    choosePoint(+x1.toFixed(2), +x2.toFixed(2), true);
  });
  $("bp-layer").addEventListener("change", () => fillBackpropRows());
  $("bp-inspect").addEventListener("click", () => inspectWeight());

  setTeachPhase(null);
  $("teach-forward").addEventListener("click", () => teach("forward"));
  $("teach-backward").addEventListener("click", () => teach("backward"));
  $("teach-update").addEventListener("click", () => teach("update"));
  $("run-many").addEventListener("click", () => {
    $("run-many").disabled = true;
    $("runs").textContent = "Training 10 runs…";
    send({ type: "run_many", n: 10 });
  });
  $("export-model").addEventListener("click", () => send({ type: "export", what: "model" }));
  $("export-script").addEventListener("click", () => send({ type: "export", what: "script" }));

  drawAxes();
}

// Pause (or step) exactly where the page is: the server goes back to the frame drawn last (its `id`), and the
// frames it sent before it read this are not drawn (they show epochs the page will never have).
function pauseHere(type = "pause", extra = {}) {
  if (app.playing) {
    app.pausing = true;
    send({ type, at: app.drawnId, ...extra });
  } else send({ type, ...extra });
  setPlaying(false, true);
}

// Forward → Backward → Update: each teach step needs the one before it.
function setTeachPhase(done) {
  app.teachPhase = done;
  $("teach-backward").disabled = done !== "forward";
  $("teach-update").disabled = done !== "backward";
}

function teach(phase) {
  if (app.playing) {
    send({ type: "pause" });
    setPlaying(false);
  }
  send({ type: "teach", phase });
}

function changeProblem(p) {
  const part = { problem: p };
  if (p === "multiclass") part.dataset = "spiral3";
  else if (app.state.problem === "multiclass" && app.state.dataset === "spiral3") part.dataset = "circle";
  setState(part);
}

function setPlaying(on, byUser = false) {
  if (byUser) app.playToggledAt = performance.now();
  app.playing = on;
  const b = $("play-pause-button");
  b.setAttribute("aria-label", on ? "Pause" : "Play");
  b.classList.toggle("playing", on);
}

const currentDataset = () => (app.state.problem === "regression" ? app.state.regDataset : app.state.dataset);

function datasetChoices() {
  const s = app.state;
  if (s.problem === "regression") {
    let reg = (app.values.regDataset || FALLBACK.values.regDataset).filter((d) => d !== "upload");
    if (s.regDataset === "upload") reg = [...reg, "upload"];
    return reg.map((d) => ["regDataset", d]);
  }
  let list = (app.values.dataset || FALLBACK.values.dataset).filter((d) => d !== "upload");
  list = s.problem === "multiclass" ? list.filter((d) => d === "spiral3") : list.filter((d) => d !== "spiral3");
  if (s.dataset === "upload") list = [...list, "upload"];
  return list.map((d) => ["dataset", d]);
}

function renderDatasets() {
  const root = $("datasets");
  const choices = datasetChoices();
  const cur = currentDataset();
  const key = JSON.stringify([choices, cur, app.state.problem, cur === "upload" && app.data ? app.data.train.length : 0]);
  if (root.dataset.key === key) return;
  root.dataset.key = key;
  root.innerHTML = "";
  for (const [k, d] of choices) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `dataset${d === cur ? " selected" : ""}`;
    b.setAttribute("aria-pressed", String(d === cur));
    b.setAttribute("aria-label", `${DATASET_NAMES[d] || d} data set`);
    b.title = DATASET_NAMES[d] || d;
    b.dataset.dataset = d;
    const c = document.createElement("canvas");
    c.width = c.height = 100;
    b.appendChild(c);
    const multi = app.state.problem === "multiclass";
    if (d === "upload") drawDatasetThumb(c, d, app.data ? app.data.train : [], multi);
    else drawDatasetThumb(c, d, null, multi);
    b.addEventListener("click", () => d !== cur && setState({ [k]: d }));
    root.appendChild(b);
  }
  // Presets for this data set
  const sel = $("preset");
  sel.innerHTML = "";
  const ph = document.createElement("option");
  ph.value = "";
  ph.textContent = "Choose a preset…";
  sel.appendChild(ph);
  (PRESETS[cur] || []).forEach(([name], i) => {
    const o = document.createElement("option");
    o.value = String(i);
    o.textContent = name;
    sel.appendChild(o);
  });
}

function updateControls() {
  const s = app.state;
  for (const key of ["learningRate", "activation", "regularization", "regularizationRate", "problem", "optimizer", "loss"]) setSelect($(key), s[key]);
  $("loss").disabled = s.problem !== "classification";
  $("loss").title = s.problem === "classification" ? "" : "Fixed by the problem type";
  for (const key of ["percTrainData", "noise", "batchSize"]) {
    const r = $(key);
    if (key === "batchSize") {
      r.min = app.limits.batchSize[0];
      r.max = app.limits.batchSize[1];
    }
    r.value = s[key];
    $(`${key}-value`).textContent = s[key];
  }
  for (const key of ["showTestData", "discretize", "expert", "earlyStopping"]) $(key).checked = !!s[key];
  for (const key of ["patience", "stopAfterEpochs", "stopAtLoss"]) if (document.activeElement !== $(key)) $(key).value = s[key];
  $("patience").disabled = !s.earlyStopping;
  $("data-seed").textContent = s.seed;
  $("init-seed").textContent = app.initSeed ?? "–";
  const h = app.head || {};
  const act = h.activation || "tanh";
  const loss = h.loss || s.loss;
  $("head-text").textContent = `output: ${label(act) === act ? act : label(act).toLowerCase()} + ${LOSS_TEXT[loss] || loss}`;
  $("head-text").title = h.text || "";
  renderDatasets();
  renderLayersPanel();
  updateNetworkTopology();
  showTeacherChoices();
  fillBackpropLayers();
  const multi = s.problem === "multiclass";
  const cl = $("class-legend");
  cl.hidden = !multi;
  if (multi && !cl.childElementCount)
    cl.innerHTML = [0, 1, 2].map((k) => `<span><span class="swatch" style="background:${classColor(k)}"></span>class ${k}</span>`).join("");
}

// A teacher's URL keys: hideText hides the title, callouts and text; `<name>_hide` hides the elements of class
// `ui-<name>`; `tutorial` shows its lesson above the playground.
function showTeacherChoices() {
  const s = app.state;
  document.body.classList.toggle("hide-text", !!s.hideText);
  for (const name of app.hideable) for (const e of document.querySelectorAll(`.ui-${name}`)) e.hidden = !!s[`${name}_hide`];
  const lesson = app.lessons[s.tutorial];
  $("lesson").hidden = !lesson || !!s.hideText;
  $("lesson-title").textContent = lesson ? lesson.title : "";
  $("lesson-text").textContent = lesson ? lesson.text : "";
  $("lessons").value = s.tutorial || "";
}

function renderLayersPanel() {
  const s = app.state;
  const tbody = $("layers-table").tBodies[0];
  const key = JSON.stringify([s.networkShape, s.layerActivations, s.dropout, s.activation]);
  if (tbody.dataset.key === key) return;
  tbody.dataset.key = key;
  tbody.innerHTML = "";
  if (!s.networkShape.length) {
    tbody.innerHTML = `<tr><td class="hint">No hidden layer.</td></tr>`;
    return;
  }
  const [dlo, dhi, dst] = app.ranges.dropout || FALLBACK.ranges.dropout;
  s.networkShape.forEach((k, l) => {
    const tr = document.createElement("tr");
    tr.innerHTML = `<th scope="row">Layer ${l + 1} (${k})</th>
      <td><label for="act-${l}" class="sr-only">Activation of hidden layer ${l + 1}</label><select id="act-${l}"></select></td>
      <td><label for="drop-${l}">dropout <span id="drop-${l}-value">0</span></label>
          <input type="range" id="drop-${l}" min="${dlo}" max="${dhi}" step="${dst}"></td>`;
    tbody.appendChild(tr);
    const sel = tr.querySelector("select");
    fillSelect(sel, ["", ...(app.values.activation || FALLBACK.values.activation)], (v) => (v === "" ? `as above (${label(s.activation)})` : label(v)));
    sel.value = (s.layerActivations || [])[l] || "";
    sel.addEventListener("change", () => {
      const list = s.networkShape.map((_, i) => (s.layerActivations || [])[i] || "");
      list[l] = sel.value;
      setState({ layerActivations: list.every((x) => x === "") ? [] : list });
    });
    const r = tr.querySelector("input");
    r.value = (s.dropout || [])[l] || 0;
    tr.querySelector(`#drop-${l}-value`).textContent = r.value;
    r.addEventListener("input", () => (tr.querySelector(`#drop-${l}-value`).textContent = r.value));
    r.addEventListener("change", () => {
      const list = s.networkShape.map((_, i) => +((s.dropout || [])[i] || 0));
      list[l] = +r.value;
      setState({ dropout: list.every((x) => x === 0) ? [] : list });
    });
  });
}

// Lists that follow the number of hidden layers are trimmed/padded with the shape.
function shapeChange(shape) {
  const s = app.state;
  const part = { networkShape: shape };
  if ((s.layerActivations || []).length) part.layerActivations = shape.map((_, i) => s.layerActivations[i] || "");
  if ((s.dropout || []).length) part.dropout = shape.map((_, i) => +(s.dropout[i] || 0));
  setState(part);
}

// ---------------------------------------------------------------------------------------------------------
// Network view and inspectors
let net;
function updateNetworkTopology() {
  const s = app.state;
  const features = Object.fromEntries(FEATURES.map((f) => [f.key, !!s[f.key]]));
  const outputs = s.problem === "multiclass" ? (app.data && app.data.classes > 1 ? app.data.classes : 3) : 1;
  const layers = (s.networkShape || []).map((_, l) => ({
    activation: (s.layerActivations || [])[l] || s.activation,
    dropout: +((s.dropout || [])[l] || 0),
  }));
  if (net.setTopology({ features, shape: s.networkShape || [], outputs, limits: app.limits, layers })) {
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
function weightLabel(l, i, j) {
  const nL = (app.state.networkShape || []).length + 1;
  const active = FEATURES.filter((f) => app.state[f.key]);
  const from = l === 0 ? (active[j] ? active[j].name : `input ${j + 1}`) : `${layerName(l, nL)} #${+j + 1}`;
  const to = `${layerName(l + 1, nL)} #${i + 1}`;
  return j === "bias" ? `bias of ${to}` : `weight ${from} → ${to}`;
}

function layerSizes() {
  const s = app.state;
  const nIn = FEATURES.filter((f) => s[f.key]).length;
  const outs = s.problem === "multiclass" ? 3 : 1;
  return [nIn, ...(s.networkShape || []), outs];
}

function fillBackpropLayers(force = false) {
  const sel = $("bp-layer");
  const sizes = layerSizes();
  const key = JSON.stringify(sizes);
  if (!force && sel.dataset.key === key) return;
  sel.dataset.key = key;
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

function fillBackpropRows() {
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

function inspectWeight() {
  const layer = +$("bp-layer").value, row = +$("bp-row").value, col = +$("bp-col").value;
  const nTrain = app.data ? app.data.train.length : 0;
  let point = Math.round(+$("bp-point").value) || 0;
  point = Math.max(0, Math.min(point, Math.max(0, nTrain - 1)));
  $("bp-point").value = point;
  $("chain").textContent = "…";
  send({ type: "inspect_weight", layer, row, col, point });
}

function choosePoint(x1, x2, fromMap) {
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

function showNeuron(msg) {
  const who = msg.layer != null ? `${layerName(+msg.layer + 1, (app.state.networkShape || []).length + 1)} neuron #${+msg.index + 1}` : "neuron";
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

// ---------------------------------------------------------------------------------------------------------
// Drawing (on animation frames, from the latest state only)
function drawAxes() {
  const svg = $("heat-axes");
  const ns = "http://www.w3.org/2000/svg";
  const S = 260;
  let html = "";
  for (let t = -6; t <= 6; t++) {
    const p = ((t + 6) / 12) * S;
    html += `<line x1="${p}" y1="${S}" x2="${p}" y2="${S + 4}" />`;
    html += `<text x="${p}" y="${S + 15}" text-anchor="middle"${t === 0 ? ' class="zero"' : ""}>${t}</text>`;
    const q = ((6 - t) / 12) * S;
    html += `<line x1="${S}" y1="${q}" x2="${S + 4}" y2="${q}" />`;
    html += `<text x="${S + 7}" y="${q + 3}"${t === 0 ? ' class="zero"' : ""}>${t}</text>`;
  }
  svg.setAttribute("viewBox", "0 0 300 286");
  svg.innerHTML = `<g xmlns="${ns}">${html}</g>`;
}

function drawPoints() {
  const c = $("points-canvas");
  const dpr = window.devicePixelRatio || 1;
  const S = c.clientWidth || 260;
  if (c.width !== Math.round(S * dpr)) {
    c.width = c.height = Math.round(S * dpr);
  }
  const ctx = c.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, S, S);
  const d = app.data;
  if (d) {
    const multi = d.classes > 1;
    const color = (lab) => (multi ? classColor(lab) : quantColor(lab));
    const pts = (list, stroke) => {
      for (const [x, y, lab] of list || []) {
        if (Math.abs(x) > 6 || Math.abs(y) > 6) continue;
        ctx.beginPath();
        ctx.arc(((x + 6) / 12) * S, ((6 - y) / 12) * S, 3, 0, 2 * Math.PI);
        ctx.fillStyle = color(lab);
        ctx.fill();
        ctx.lineWidth = 1;
        ctx.strokeStyle = stroke;
        ctx.stroke();
      }
    };
    pts(d.train, "#fff");
    if (app.state.showTestData) pts(d.test, "rgba(0,0,0,0.6)");
    // Teach mode: the mini-batch's points are ringed.
    const batch = app.teachBatch;
    if (Array.isArray(batch)) {
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 1.5;
      for (const b of batch) {
        const p = Array.isArray(b) ? b : typeof b === "number" ? d.train[b] : b && b.x != null ? [b.x[0] ?? b.x, b.x[1] ?? b.y] : null;
        if (!p) continue;
        ctx.beginPath();
        ctx.arc(((p[0] + 6) / 12) * S, ((6 - p[1]) / 12) * S, 6, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
  }
  // The inspectors' chosen point: a small cross.
  const [px, py] = [((app.point[0] + 6) / 12) * S, ((6 - app.point[1]) / 12) * S];
  ctx.strokeStyle = "#222";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(px - 6, py);
  ctx.lineTo(px + 6, py);
  ctx.moveTo(px, py - 6);
  ctx.lineTo(px, py + 6);
  ctx.stroke();
}

// The big curves are redrawn at most 4 times a second while training (the small loss chart every frame).
function drawBigCurves(now) {
  app.curvesAt = now;
  drawCurves($("loss-curves"), app.history, [
    { key: "trainLoss", color: "#777", label: "training loss" },
    { key: "testLoss", color: "#000", label: "test loss" },
  ], { title: "Loss" });
  const hasAcc = app.history.some((p) => p.trainAcc != null);
  if ($("acc-curves").hidden !== !hasAcc) $("acc-curves").hidden = !hasAcc;
  if (hasAcc)
    drawCurves($("acc-curves"), app.history, [
      { key: "trainAcc", color: "#777", label: "training accuracy" },
      { key: "testAcc", color: "#000", label: "test accuracy" },
    ], { title: "Accuracy", yRange: [0, 1] });
}

function draw() {
  const t0 = performance.now();
  const f = app.frame;
  const s = app.state;
  const busy = app.dirty.frame || app.dirty.state || app.dirty.data;
  if (app.dirty.frame || app.dirty.state) {
    const map = app.override || (app.hover && app.hover.kind === "hidden" && app.focusSent ? f && f.output : app.outputMap || (f && f.output));
    if (map) drawMap($("heat-canvas"), decodeMap(map), !!s.discretize);
    if (f) {
      app.drawnId = f.id;
      setText("iter-number", fmtEpoch(f.epoch));
      setText("loss-test", fmtLoss(f.testLoss));
      setText("loss-train", fmtLoss(f.trainLoss));
      setText("acc-line",
        f.testAcc != null && f.trainAcc != null ? `Accuracy: test ${(100 * f.testAcc).toFixed(1)}%, training ${(100 * f.trainAcc).toFixed(1)}%` : "");
      net.update(f, !!s.discretize);
      drawLossChart($("linechart"), app.history);
      if (t0 - app.curvesAt > 250 || !app.playing) drawBigCurves(t0);
      renderConfusion($("confusion"), f.confusion, app.data && app.data.classes);
    }
    app.dirty.frame = app.dirty.state = false;
  }
  if (app.dirty.data) {
    drawPoints();
    app.dirty.data = false;
  }
  if (busy) {
    // Drawing statistics (for benchmarks): frames drawn and time spent drawing them.
    app.stats.draws += 1;
    app.stats.drawMs += performance.now() - t0;
  }
  requestAnimationFrame(draw);
}

// ---------------------------------------------------------------------------------------------------------
async function main() {
  app.hashState = parseHash(location.hash, false);
  try {
    const r = await fetch("api/defaults", { cache: "no-store" });
    if (r.ok) readDefaults(await r.json());
  } catch (e) {
    note(`Could not read /api/defaults (${e}); using PROTOCOL.md's defaults.`, "warning");
  }
  if (app.hashState) {
    // Show the link's setup at once; the server's `state` reply (to the hash's text, sent on connect) is the truth.
    for (const [k, v] of Object.entries(parseHash(location.hash))) if (k in app.state) app.state[k] = v;
  }
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
  });
  buildControls();
  updateControls();
  let resizeTimer;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => updateNetworkTopology(), 100);
  });
  connect();
  requestAnimationFrame(draw);
}

main();
