// The controls: every element with a `data-key` is one state key (its values and ranges come from the server's
// schema), plus the player buttons, the data sets, the per-layer table, the upload and a teacher's choices.
import { $, app, label, LOSS_TEXT, fillSelect, limitRanges } from "./page.js";
import { send, setState } from "./connection.js";
import { drawDatasetThumb, DATASET_NAMES, PRESETS } from "./datasets.js";
import { classColor } from "./colors.js";
import { updateNetworkTopology, fillBackpropLayers, fillBackpropRows, inspectWeight, choosePoint } from "./inspectors.js";

const keyed = (selector) => [...document.querySelectorAll(selector)].map((e) => [e.dataset.key, e]);
const SELECTS = () => keyed("select[data-key]");
const SLIDERS = () => keyed('input[type="range"][data-key]');
const CHECKBOXES = () => keyed('input[type="checkbox"][data-key]');
const NUMBERS = () => keyed('input[type="number"][data-key]');

/** Take in GET /api/defaults: the default state, every key's description, the limits, the lessons. */
export function readDefaults(described) {
  app.defaults = described.state;
  app.keys = described.keys;
  app.limitsOf = { normal: limitRanges(described.limits.normal), expert: limitRanges(described.limits.expert) };
  app.lessons = described.lessons;
  app.hideable = described.hideable;
  app.state = { ...described.state };
  app.limits = app.limitsOf.normal;
}

/** The limits of a `state` message (in force for its `expert` mode). */
export function applyLimits(limits) {
  app.rawLimits = limits;
  app.limits = limitRanges(limits);
}

const optionLabel = (key) => (key === "tutorial" ? (name) => (name ? app.lessons[name].title : "Choose a lesson…") : label);

export function buildControls() {
  for (const [key, sel] of SELECTS()) {
    const values = app.keys[key].values;
    fillSelect(sel, values, optionLabel(key));
    sel.addEventListener("change", () => {
      const v = values.find((x) => String(x) === sel.value);
      if (key === "problem") return changeProblem(v);
      setState({ [key]: v });
    });
  }
  for (const [key, r] of SLIDERS()) {
    const { min, max, step } = app.keys[key];
    Object.assign(r, { min, max, step });
    r.addEventListener("input", () => ($(`${key}-value`).textContent = r.value));
    r.addEventListener("change", () => setState({ [key]: +r.value }));
  }
  for (const [key, c] of CHECKBOXES()) {
    c.addEventListener("change", () => {
      if (key === "showTestData" || key === "discretize") {
        app.state[key] = c.checked; // draw at once; the server keeps it in the state
        app.dirty.frame = app.dirty.data = true;
      }
      setState({ [key]: c.checked });
    });
  }
  for (const [key, n] of NUMBERS()) {
    Object.assign(n, { min: app.keys[key].min, max: app.keys[key].max });
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
  for (const kind of ["reset", "restart"])
    $(`${kind}-button`).addEventListener("click", () => {
      if (app.playing) send({ type: "pause" });
      setPlaying(false, true);
      send({ type: kind });
    });
  $("data-regen-button").addEventListener("click", () => send({ type: "regenerate" }));
  $("lesson-close").addEventListener("click", () => setState({ tutorial: "" }));
  $("warnings-clear").addEventListener("click", () => {
    $("warnings").textContent = "";
    $("warning-count").textContent = "0";
  });

  $("preset").addEventListener("change", () => {
    const p = (PRESETS[currentDataset()] || [])[+$("preset").value];
    if (p) setState(p[1]);
    $("preset").value = "";
  });
  $("upload-csv").addEventListener("change", upload);

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
  for (const phase of ["forward", "backward", "update"]) $(`teach-${phase}`).addEventListener("click", () => teach(phase));
  $("run-many").addEventListener("click", () => {
    $("run-many").disabled = true;
    $("runs").textContent = "Training 10 runs…";
    send({ type: "run_many", n: 10 });
  });
  for (const what of ["model", "script"]) $(`export-${what}`).addEventListener("click", () => send({ type: "export", what }));
}

async function upload() {
  const file = $("upload-csv").files[0];
  if (!file) return;
  $("upload-error").textContent = "";
  const limit = app.rawLimits.maxUploadBytes;
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
export function setTeachPhase(done) {
  app.teachPhase = done;
  $("teach-backward").disabled = done !== "forward";
  $("teach-update").disabled = done !== "backward";
}

function teach(phase) {
  if (app.playing) pauseHere();
  send({ type: "teach", phase });
}

function changeProblem(p) {
  const part = { problem: p };
  if (p === "multiclass") part.dataset = "spiral3";
  else if (app.state.problem === "multiclass" && app.state.dataset === "spiral3") part.dataset = "circle";
  setState(part);
}

export function setPlaying(on, byUser = false) {
  if (byUser) app.playToggledAt = performance.now();
  app.playing = on;
  const b = $("play-pause-button");
  b.setAttribute("aria-label", on ? "Pause" : "Play");
  b.classList.toggle("playing", on);
}

const currentDataset = () => (app.state.problem === "regression" ? app.state.regDataset : app.state.dataset);

function datasetChoices() {
  const s = app.state;
  const shown = (key) => app.keys[key].values.filter((d) => d !== "upload" || s[key] === "upload");
  if (s.problem === "regression") return shown("regDataset").map((d) => ["regDataset", d]);
  const list = shown("dataset").filter((d) => d === "upload" || (s.problem === "multiclass") === (d === "spiral3"));
  return list.map((d) => ["dataset", d]);
}

export function renderDatasets() {
  const root = $("datasets");
  const choices = datasetChoices();
  const cur = currentDataset();
  const key = JSON.stringify([choices, cur, app.state.problem, cur === "upload" && app.data ? app.data.train.length : 0]);
  if (root.dataset.drawn === key) return;
  root.dataset.drawn = key;
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
    drawDatasetThumb(c, d, d === "upload" && app.data ? app.data.train : null, multi);
    b.addEventListener("click", () => d !== cur && setState({ [k]: d }));
    root.appendChild(b);
  }
  // Presets for this data set
  fillSelect($("preset"), ["", ...(PRESETS[cur] || []).keys()], (i) => (i === "" ? "Choose a preset…" : PRESETS[cur][i][0]));
}

export function updateControls() {
  const s = app.state;
  for (const [key, sel] of SELECTS()) sel.value = String(s[key]);
  $("loss").disabled = s.problem !== "binary";
  $("loss").title = s.problem === "binary" ? "" : "Fixed by the problem type";
  for (const [key, r] of SLIDERS()) {
    if (key === "batchSize") [r.min, r.max] = app.limits.batchSize;
    if (key === "noise") r.max = Math.max(app.keys.noise.max, s.noise); // a TFP link's 51–80 widens it, as TFP
    r.value = s[key];
    $(`${key}-value`).textContent = s[key];
  }
  for (const [key, c] of CHECKBOXES()) c.checked = !!s[key];
  for (const [key, n] of NUMBERS()) if (document.activeElement !== n) n.value = s[key];
  $("patience").disabled = !s.earlyStopping;
  $("data-seed").textContent = s.seed;
  $("init-seed").textContent = app.initSeed ?? "–";
  const h = app.head; // null until the server's first state
  if (h) {
    $("head-text").textContent = `output: ${label(h.activation) === h.activation ? h.activation : label(h.activation).toLowerCase()} + ${LOSS_TEXT[h.loss] || h.loss}`;
    $("head-text").title = h.text;
  }
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

// A teacher's URL keys: hideText hides the title, callouts and text (not the Lessons menu); `<name>_hide` hides
// the elements of class `ui-<name>`; `tutorial` shows its lesson above the playground.
function showTeacherChoices() {
  const s = app.state;
  document.body.classList.toggle("hide-text", s.hideText);
  for (const name of app.hideable) for (const e of document.querySelectorAll(`.ui-${name}`)) e.hidden = s[`${name}_hide`];
  const lesson = app.lessons[s.tutorial];
  $("lesson").hidden = !lesson || s.hideText;
  $("lesson-title").textContent = lesson ? lesson.title : "";
  $("lesson-text").textContent = lesson ? lesson.text : "";
}

function renderLayersPanel() {
  const s = app.state;
  const tbody = $("layers-table").tBodies[0];
  const key = JSON.stringify([s.networkShape, s.layerActivations, s.dropout, s.activation]);
  if (tbody.dataset.drawn === key) return;
  tbody.dataset.drawn = key;
  tbody.innerHTML = "";
  if (!s.networkShape.length) {
    tbody.innerHTML = `<tr><td class="hint">No hidden layer.</td></tr>`;
    return;
  }
  const { min, max } = app.keys.dropout.item;
  s.networkShape.forEach((k, l) => {
    const tr = document.createElement("tr");
    tr.innerHTML = `<th scope="row">Layer ${l + 1} (${k})</th>
      <td><label for="act-${l}" class="sr-only">Activation of hidden layer ${l + 1}</label><select id="act-${l}"></select></td>
      <td><label for="drop-${l}">dropout <span id="drop-${l}-value">0</span></label>
          <input type="range" id="drop-${l}" min="${min}" max="${max}" step="0.05"></td>`;
    tbody.appendChild(tr);
    const sel = tr.querySelector("select");
    fillSelect(sel, app.keys.layerActivations.item.values, (v) => (v === "" ? `as above (${label(s.activation)})` : label(v)));
    sel.value = s.layerActivations[l] || "";
    sel.addEventListener("change", () => {
      const list = s.networkShape.map((_, i) => s.layerActivations[i] || "");
      list[l] = sel.value;
      setState({ layerActivations: list.every((x) => x === "") ? [] : list });
    });
    const r = tr.querySelector("input");
    r.value = s.dropout[l] || 0;
    tr.querySelector(`#drop-${l}-value`).textContent = r.value;
    r.addEventListener("input", () => (tr.querySelector(`#drop-${l}-value`).textContent = r.value));
    r.addEventListener("change", () => {
      const list = s.networkShape.map((_, i) => +(s.dropout[i] || 0));
      list[l] = +r.value;
      setState({ dropout: list.every((x) => x === 0) ? [] : list });
    });
  });
}

// Lists that follow the number of hidden layers are trimmed/padded with the shape.
export function shapeChange(shape) {
  const s = app.state;
  const part = { networkShape: shape };
  if (s.layerActivations.length) part.layerActivations = shape.map((_, i) => s.layerActivations[i] || "");
  if (s.dropout.length) part.dropout = shape.map((_, i) => +(s.dropout[i] || 0));
  setState(part);
}
