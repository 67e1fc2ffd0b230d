// Data-set thumbnails (drawn in the page from the generators' formulas, 200 points, no noise, as TensorFlow
// Playground does) and "best known" presets per data set. The training data itself always comes from the server.
import { quantColor, classColor } from "./colors.js";

const U = (a, b) => a + Math.random() * (b - a);
function normal(mean, variance) {
  // Marsaglia polar method, one value kept.
  let v1, v2, s;
  do {
    v1 = 2 * Math.random() - 1;
    v2 = 2 * Math.random() - 1;
    s = v1 * v1 + v2 * v2;
  } while (s > 1 || s === 0);
  return mean + Math.sqrt(variance) * v1 * Math.sqrt((-2 * Math.log(s)) / s);
}

const GENERATORS = {
  circle(n) {
    const pts = [];
    for (let i = 0; i < n; i++) {
      const r = i < n / 2 ? U(0, 2.5) : U(3.5, 5);
      const a = U(0, 2 * Math.PI);
      const x = r * Math.sin(a), y = r * Math.cos(a);
      pts.push([x, y, Math.hypot(x, y) < 2.5 ? 1 : -1]);
    }
    return pts;
  },
  xor(n) {
    const pts = [];
    for (let i = 0; i < n; i++) {
      let x = U(-5, 5), y = U(-5, 5);
      x += x > 0 ? 0.3 : -0.3;
      y += y > 0 ? 0.3 : -0.3;
      pts.push([x, y, x * y >= 0 ? 1 : -1]);
    }
    return pts;
  },
  gauss(n) {
    const pts = [];
    for (let i = 0; i < n; i++) {
      const c = i < n / 2 ? 2 : -2;
      pts.push([normal(c, 0.5), normal(c, 0.5), c > 0 ? 1 : -1]);
    }
    return pts;
  },
  spiral(n) {
    const pts = [], m = n / 2;
    for (const [delta, label] of [[0, 1], [Math.PI, -1]]) {
      for (let i = 0; i < m; i++) {
        const r = (5 * i) / m, t = (1.75 * 2 * Math.PI * i) / m + delta;
        pts.push([r * Math.sin(t), r * Math.cos(t), label]);
      }
    }
    return pts;
  },
  sine(n) {
    const pts = [];
    for (let i = 0; i < n; i++) {
      const x = U(-6, 6), y = U(-6, 6);
      pts.push([x, y, y > 3 * Math.sin(x) ? 1 : -1]);
    }
    return pts;
  },
  spiral3(n) {
    const pts = [], m = Math.floor(n / 3);
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < m; i++) {
        const r = (5 * i) / m, t = (1.75 * 2 * Math.PI * i) / m + (2 * Math.PI * k) / 3;
        pts.push([r * Math.sin(t), r * Math.cos(t), k]);
      }
    }
    return pts;
  },
  "reg-plane"(n) {
    const pts = [];
    for (let i = 0; i < n; i++) {
      const x = U(-6, 6), y = U(-6, 6);
      pts.push([x, y, (x + y) / 10]);
    }
    return pts;
  },
  "reg-gauss"(n) {
    const centres = [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]];
    const pts = [];
    for (let i = 0; i < n; i++) {
      const x = U(-6, 6), y = U(-6, 6);
      let best = 0;
      for (const [cx, cy, s] of centres) {
        const v = s * Math.max(0, 1 - Math.hypot(x - cx, y - cy) / 2);
        if (Math.abs(v) > Math.abs(best)) best = v;
      }
      pts.push([x, y, best]);
    }
    return pts;
  },
};

export const DATASET_NAMES = {
  circle: "Circle",
  xor: "Exclusive or",
  gauss: "Gaussian",
  spiral: "Spiral",
  sine: "Sine boundary (y > 3 sin x)",
  spiral3: "Three-arm spiral",
  "reg-plane": "Plane",
  "reg-gauss": "Multi gaussian",
  upload: "Uploaded",
};

/** Draw a 100×100 thumbnail: 4 px squares over [-6, 6]² (200 points, or the given points). */
export function drawDatasetThumb(canvas, name, points = null, multiclass = false) {
  const ctx = canvas.getContext("2d");
  const s = canvas.width;
  ctx.clearRect(0, 0, s, s);
  const pts = points || (GENERATORS[name] ? GENERATORS[name](200) : []);
  const step = Math.max(1, Math.ceil(pts.length / 400));
  for (let i = 0; i < pts.length; i += step) {
    const [x, y, label] = pts[i];
    if (Math.abs(x) > 6 || Math.abs(y) > 6) continue;
    ctx.fillStyle = multiclass ? classColor(label) : quantColor(label);
    ctx.fillRect(((x + 6) / 12) * s - 2, ((6 - y) / 12) * s - 2, 4, 4);
  }
}

/**
 * "Best known" presets per data set (TFP issue #195): each is a partial state sent with one `set` message.
 * The first entry of every list is TensorFlow Playground's default setup.
 */
const FEATS_OFF = { x: false, y: false, xSquared: false, ySquared: false, xTimesY: false, sinX: false, sinY: false };
const DEFAULT_SETUP = { ...FEATS_OFF, x: true, y: true, networkShape: [4, 2], activation: "tanh", learningRate: 0.03 };
export const PRESETS = {
  circle: [
    ["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP],
    ["X1², X2², no hidden layer", { ...FEATS_OFF, xSquared: true, ySquared: true, networkShape: [], learningRate: 0.03 }],
    ["X1, X2 → 3 ReLU", { ...FEATS_OFF, x: true, y: true, networkShape: [3], activation: "relu", learningRate: 0.03 }],
  ],
  xor: [
    ["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP],
    ["X1X2 only, no hidden layer", { ...FEATS_OFF, xTimesY: true, networkShape: [], learningRate: 0.03 }],
    ["X1, X2 → 4 ReLU", { ...FEATS_OFF, x: true, y: true, networkShape: [4], activation: "relu", learningRate: 0.03 }],
  ],
  gauss: [
    ["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP],
    ["X1, X2, no hidden layer", { ...FEATS_OFF, x: true, y: true, networkShape: [], learningRate: 0.03 }],
  ],
  spiral: [
    ["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP],
    ["X1, X2, sin X1, sin X2 → 8, 8, 8 tanh", { ...FEATS_OFF, x: true, y: true, sinX: true, sinY: true, networkShape: [8, 8, 8], activation: "tanh", learningRate: 0.03 }],
    ["All features → 8, 8, 6 tanh, Adam", { x: true, y: true, xSquared: true, ySquared: true, xTimesY: true, sinX: true, sinY: true, networkShape: [8, 8, 6], activation: "tanh", optimizer: "adam", learningRate: 0.01 }],
  ],
  sine: [
    ["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP],
    ["X2, sin X1, no hidden layer", { ...FEATS_OFF, y: true, sinX: true, networkShape: [], learningRate: 0.03 }],
    ["X1, X2 → 8, 8 tanh, Adam", { ...FEATS_OFF, x: true, y: true, networkShape: [8, 8], activation: "tanh", optimizer: "adam", learningRate: 0.01 }],
  ],
  spiral3: [
    ["X1, X2, sin X1, sin X2 → 8, 8 tanh, Adam", { ...FEATS_OFF, x: true, y: true, sinX: true, sinY: true, networkShape: [8, 8], activation: "tanh", optimizer: "adam", learningRate: 0.01 }],
    ["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP],
  ],
  "reg-plane": [
    ["X1, X2, no hidden layer (linear)", { ...FEATS_OFF, x: true, y: true, networkShape: [], learningRate: 0.01 }],
    ["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP],
  ],
  "reg-gauss": [
    ["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP],
    ["X1, X2 → 8, 8, 8 tanh, Adam", { ...FEATS_OFF, x: true, y: true, networkShape: [8, 8, 8], activation: "tanh", optimizer: "adam", learningRate: 0.01 }],
  ],
  upload: [["Default: X1, X2 → 4, 2 tanh", DEFAULT_SETUP]],
};
