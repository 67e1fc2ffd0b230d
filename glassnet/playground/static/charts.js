// Line charts on canvas: TensorFlow Playground's small loss chart (no axes; training loss grey #777, test loss
// black, 1.5 px) and the bigger train/test curves of loss and accuracy with axes.

// CSS sizes are read once per canvas (again after a resize), not on every draw: reading them forces a layout.
let resizeVersion = 0;
window.addEventListener("resize", () => (resizeVersion += 1));
const sizes = new WeakMap();
function cssSize(canvas) {
  let s = sizes.get(canvas);
  if (!s || s.v !== resizeVersion || !s.w) {
    s = { w: canvas.clientWidth, h: canvas.clientHeight || 55, v: resizeVersion };
    sizes.set(canvas, s);
  }
  return s;
}

export function setupCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const { w, h } = cssSize(canvas);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

function extent(history, keys) {
  let lo = Infinity, hi = -Infinity;
  for (const p of history) {
    for (const k of keys) {
      const v = p[k];
      if (v == null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return null;
  if (hi - lo < 1e-12) {
    hi += 1e-3;
    lo -= 1e-3;
  }
  return [lo, hi];
}

// A curve of `history[i][key]` at (x(i), y(v)), drawn through at most about two points per pixel of `span` (a
// long history is thinned by taking every k-th point: each point drawn is a real one).
function line(ctx, history, key, x, y, color, width = 1.5, dash = null, span = Infinity) {
  ctx.beginPath();
  let started = false;
  const stride = Math.max(1, Math.floor(history.length / (2 * span)));
  const last = history.length - 1; // always drawn
  for (let i = 0; i <= last; i = i === last ? last + 1 : Math.min(i + stride, last)) {
    const v = history[i][key];
    if (v == null || !Number.isFinite(v)) continue;
    const px = x(i), py = y(v);
    if (started) ctx.lineTo(px, py);
    else {
      ctx.moveTo(px, py);
      started = true;
    }
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.setLineDash(dash || []);
  ctx.stroke();
  ctx.setLineDash([]);
}

/** TFP's loss chart: x covers all points, y covers min..max of both losses so far. */
export function drawLossChart(canvas, history) {
  const { ctx, w, h } = setupCanvas(canvas);
  if (history.length < 1) return;
  const ext = extent(history, ["trainLoss", "testLoss"]);
  if (!ext) return;
  const [lo, hi] = ext;
  const n = Math.max(1, history.length - 1);
  const x = (i) => (i / n) * (w - 2) + 1;
  const y = (v) => h - 2 - ((v - lo) / (hi - lo)) * (h - 4);
  line(ctx, history, "trainLoss", x, y, "#777", 1.5, null, w);
  line(ctx, history, "testLoss", x, y, "#000", 1.5, null, w);
}

const fmtTick = (v, digits = 2) => {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(Math.max(0, digits - 2)) : a >= 1 ? v.toFixed(digits) : v.toPrecision(digits);
};

/** A range's two ends, `format(v, digits)` with the digits it takes to tell them apart (0.499 and 0.501, not 0.50
 * twice). */
export function ends(lo, hi, format) {
  let digits = 2;
  while (digits < 6 && format(lo, digits) === format(hi, digits)) digits += 1;
  return [format(lo, digits), format(hi, digits)];
}

/** A chart's two axes, left and bottom, inside the margins m. */
export function axes(ctx, m, w, h) {
  ctx.strokeStyle = "#bbb";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(m.l, m.t);
  ctx.lineTo(m.l, h - m.b);
  ctx.lineTo(w - m.r, h - m.b);
  ctx.stroke();
}

/** A curve chart with axes: series = [{key, color, label, dash}], y range from the data (or fixed). */
export function drawCurves(canvas, history, series, { title = "", yRange = null } = {}) {
  const { ctx, w, h } = setupCanvas(canvas);
  const m = { l: 44, r: 10, t: 18, b: 22 };
  ctx.font = "11px sans-serif";
  ctx.fillStyle = "#333";
  ctx.fillText(title, m.l, 12);
  const ext = yRange || extent(history, series.map((s) => s.key));
  axes(ctx, m, w, h);
  if (!ext || history.length === 0) return;
  const [lo, hi] = ext;
  const e0 = history[0].epoch || 0, e1 = history[history.length - 1].epoch || 0;
  const n = Math.max(1, history.length - 1);
  const x = (i) => m.l + (i / n) * (w - m.l - m.r);
  const y = (v) => h - m.b - ((v - lo) / (hi - lo)) * (h - m.t - m.b);
  ctx.fillStyle = "#666";
  ctx.textAlign = "right";
  const [low, high] = ends(lo, hi, fmtTick);
  ctx.fillText(high, m.l - 4, m.t + 4);
  ctx.fillText(low, m.l - 4, h - m.b);
  ctx.textAlign = "left";
  ctx.fillText(`epoch ${e0}`, m.l, h - 6);
  ctx.textAlign = "right";
  ctx.fillText(`${e1}`, w - m.r, h - 6);
  canvas.setAttribute("aria-label", `${title} curves (${series.map((s) => s.label).join(", ")}), epochs ${e0} to ${e1}, from ${low} to ${high}`);
  ctx.textAlign = "left";
  for (const s of series) line(ctx, history, s.key, x, y, s.color, 1.5, s.dash, w - m.l - m.r);
  // legend
  let lx = m.l + 140;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    ctx.moveTo(lx, 8);
    ctx.lineTo(lx + 16, 8);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#333";
    ctx.fillText(s.label, lx + 20, 12);
    lx += 30 + ctx.measureText(s.label).width;
  }
}
