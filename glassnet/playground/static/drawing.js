// Drawing, on animation frames, from the latest state only: the big heat map and its points, the epoch and losses,
// the network, the loss chart and curves, the confusion matrix.
import { $, app, setText, fmtEpoch, fmtLoss } from "./page.js";
import { decodeMap, drawMap, quantColor, classColor } from "./colors.js";
import { drawLossChart, drawCurves } from "./charts.js";
import { renderConfusion } from "./panels.js";
import { net } from "./inspectors.js";

export function drawAxes() {
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
      for (const [x, y, lab] of list) {
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
    if (app.teachBatch) {
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 1.5;
      for (const [x, y] of app.teachBatch) {
        ctx.beginPath();
        ctx.arc(((x + 6) / 12) * S, ((6 - y) / 12) * S, 6, 0, 2 * Math.PI);
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

export function draw() {
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
