// The WebSocket to the server (/ws) and every message it sends, exactly as PROTOCOL.md describes them.
import { $, app, setText } from "./page.js";
import { renderChain, renderTeach, renderRuns, download } from "./panels.js";
import { updateControls, renderDatasets, setPlaying, setTeachPhase, applyLimits } from "./controls.js";
import { showNeuron, weightLabel } from "./inspectors.js";
import { clearLens, onLens, onLensError, onLrFind, subscribe } from "./lens.js";

export function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  app.ws = ws;
  ws.onopen = () => {
    $("conn").textContent = "connected";
    document.body.dataset.connected = "true";
    const restore = app.restoreState || app.hashState;
    app.hashState = null;
    if (restore && Object.keys(restore).length) send({ type: "set", state: restore });
    subscribe(); // the lens panels open (a new session knows none)
    for (const m of app.queue.splice(0)) ws.send(JSON.stringify(m));
    if (app.playing) send({ type: "play" });
  };
  ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
  ws.onclose = (ev) => {
    document.body.dataset.connected = "false";
    const busy = ev.code === 1013; // the server serves --max-sessions pages at most
    $("conn").textContent = busy ? `${ev.reason} — retrying in 10 s…` : "disconnected — reconnecting…";
    if (busy) note(ev.reason, "error");
    app.restoreState = { ...app.state };
    setTimeout(connect, busy ? 10000 : 1000);
  };
}

export function send(msg) {
  const ws = app.ws;
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  else if (msg.type !== "focus" && msg.type !== "inspect_neuron") app.queue.push(msg);
}
export const setState = (partial) => send({ type: "set", state: partial });

let noteTimer = null;
/** A toast for 8 s; warnings and errors also stay in the footer's list. */
export function note(text, kind = "info") {
  if (kind !== "info") keepWarning(text, kind);
  const m = $("messages");
  m.textContent = text;
  m.dataset.kind = kind;
  m.hidden = false;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => (m.hidden = true), 8000);
}

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
      return onData(msg);
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
    case "lr_find":
      return onLrFind(msg);
    case "export":
      download(msg);
      $("export-status").textContent = `Saved ${msg.filename}.`;
      return;
    case "warning":
      return note(msg.message, "warning");
    case "error":
      if (app.uploadPending) {
        app.uploadPending = false;
        $("upload-error").textContent = msg.message;
        $("upload-status").textContent = "";
      } else note(msg.message, "error");
      if (msg.message.startsWith("teach")) setTeachPhase(null);
      if (msg.message.startsWith("lr_find")) onLensError();
      $("run-many").disabled = false;
  }
}

// The server says whether it is training (`playing` in state and frame messages). Right after the page itself
// pressed play/pause, messages the server sent before it read that command are not believed for a moment.
function syncPlaying(msg) {
  if (msg.playing === app.playing || performance.now() - app.playToggledAt < 600) return;
  setPlaying(msg.playing);
}

// A new network (reset, new data, features, layers, seed…): no panel may show the old one.
function newNetwork(id) {
  app.network = id;
  app.history = [];
  app.curvesAt = -1e9;
  clearDataPanels();
  clearLens();
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
  if (app.lastInspected && app.lastInspected.layer <= app.state.networkShape.length)
    send({ type: "inspect_neuron", ...app.lastInspected, point: app.point });
}

function onState(msg) {
  if (msg.network !== app.network) newNetwork(msg.network);
  syncPlaying(msg);
  app.framesSinceState = 0;
  document.body.dataset.framesSinceState = "0";
  app.state = msg.state;
  app.head = msg.head;
  app.initSeed = msg.initSeed;
  applyLimits(msg.limits);
  const upload = app.state.dataset === "upload" || app.state.regDataset === "upload";
  if (app.uploadPending && upload) $("upload-error").textContent = "";
  history.replaceState(null, "", `#${msg.hash}`);
  updateControls();
  setTeachPhase(null); // a new setup or network: the next teaching step starts with Forward
  app.teachBatch = null;
  app.dirty.data = app.dirty.state = app.dirty.frame = true;
}

function onData(msg) {
  app.data = msg;
  const upload = app.state.dataset === "upload" || app.state.regDataset === "upload";
  if (app.uploadPending) $("upload-status").textContent = `Loaded ${msg.train.length + msg.test.length} points from your file.`;
  else if (!upload) $("upload-status").textContent = "";
  app.uploadPending = false;
  clearDataPanels();
  app.dirty.data = true;
  $("bp-point").max = Math.max(0, msg.train.length - 1);
  renderDatasets();
}

function onFrame(f) {
  if (app.pausing) {
    if (f.playing) return; // sent before the server read our pause
    app.pausing = false;
    app.history = app.history.filter((p) => p.epoch <= f.epoch); // received, not yet drawn, and undone
  }
  if (f.network !== app.network) newNetwork(f.network);
  app.history.push(...f.history);
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
  $("stopped").title = $("stopped").textContent; // whole, where two lines cut it short
  app.dirty.frame = true;
  if (f.lens) onLens(f.lens);
}

// The server's reason is a sentence for the learner; show it with a capital letter.
const stopText = (s) => (/^stop/i.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : `Stopped: ${s}`);
