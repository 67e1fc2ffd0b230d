// Colour scale and heat-map decoding, as in TensorFlow Playground:
// -1 → orange #f59322, 0 → light grey #e8eaeb, +1 → blue #0877bd, linear in RGB between, clamped outside.
// Heat maps use a 31-bin quantized version drawn at alpha 160/255.

export const ORANGE = [245, 147, 34];
export const GREY = [232, 234, 235];
export const BLUE = [8, 119, 189];
/** One colour per class in multiclass problems (class 0, 1, 2). */
export const CLASS_RGB = [ORANGE, BLUE, [39, 158, 76]];
export const HEAT_ALPHA = 160;
const BINS = 31;

const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);
const mix = (a, b, t) => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
const hex = (rgb) => "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");

/** Continuous scale: value in [-1, 1] → [r, g, b]. */
export function scaleRGB(v) {
  if (!Number.isFinite(v)) v = 0;
  v = clamp(v, -1, 1);
  return v < 0 ? mix(ORANGE, GREY, v + 1) : mix(GREY, BLUE, v);
}
export const scaleColor = (v) => hex(scaleRGB(v));

// The 31 colours of the quantized scale, sampled evenly over [-1, 1].
const QUANT = Array.from({ length: BINS }, (_, i) => scaleRGB((2 * i) / (BINS - 1) - 1));
/** Quantized scale: value → one of 31 colours (bins of equal width over [-1, 1]). */
export function quantRGB(v) {
  if (!Number.isFinite(v)) v = 0;
  const i = clamp(Math.floor(((v + 1) / 2) * BINS), 0, BINS - 1);
  return QUANT[i];
}
export const quantColor = (v) => hex(quantRGB(v));
export const classColor = (k) => hex(CLASS_RGB[k] || GREY);

/** Byte → value, as PROTOCOL.md encodes maps: byte = round((v + 1) · 127.5). */
export const byteToValue = (b) => b / 127.5 - 1;

// Look-up tables byte → RGBA pixel (4 bytes as one Uint32) for the two-colour scale, with and without "discretize".
function makeLut(fn) {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let b = 0; b < 256; b++) {
    const [r, g, bl] = fn(byteToValue(b));
    lut.set([r, g, bl, HEAT_ALPHA], b * 4);
  }
  return new Uint32Array(lut.buffer);
}
const LUT = makeLut(quantRGB);
const LUT_DISCRETE = makeLut((v) => quantRGB(v >= 0 ? 1 : -1));
// Multiclass: per class, confidence (max probability p ∈ [1/3, 1]) mixes grey → class colour.
const CLASS_LUTS = CLASS_RGB.map((rgb) =>
  makeLut((p) => {
    const t = clamp((p - 1 / 3) / (2 / 3), 0, 1);
    const q = Math.min(BINS - 1, Math.floor(t * BINS)) / (BINS - 1);
    return mix(GREY, rgb, q);
  }),
);
const CLASS_LUTS_DISCRETE = CLASS_RGB.map((rgb) => makeLut(() => rgb));

/** Base64 → Uint8Array. */
export function decodeB64(b64) {
  const s = atob(b64 || "");
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * A decoded map: {w, h, bytes, classes?}. Accepts the wire form {w, h, b64, classes?}
 * or an already decoded one; memoised on the object so a map is decoded once.
 */
export function decodeMap(m) {
  if (!m) return null;
  if (m._decoded) return m._decoded;
  const d = { w: m.w, h: m.h, bytes: m.bytes || decodeB64(m.b64) };
  if (m.b64 != null) d.key = `${m.w}x${m.h}:${m.b64}:${typeof m.classes === "string" ? m.classes : ""}`; // its content
  if (m.classes) d.classes = typeof m.classes === "string" ? decodeB64(m.classes) : Uint8Array.from(m.classes);
  Object.defineProperty(m, "_decoded", { value: d, enumerable: false });
  return d;
}

/** A map from a function f(x1, x2) over [-6, 6]², row 0 at the top (x2 = +6), values clamped to [-1, 1]. */
export function mapFromFunction(f, n) {
  const bytes = new Uint8Array(n * n);
  for (let r = 0; r < n; r++) {
    const x2 = 6 - (12 * r) / (n - 1);
    for (let c = 0; c < n; c++) {
      const x1 = -6 + (12 * c) / (n - 1);
      const v = clamp(f(x1, x2), -1, 1);
      bytes[r * n + c] = Math.round((v + 1) * 127.5);
    }
  }
  return { w: n, h: n, bytes };
}

/** Draw a decoded map into a canvas whose pixel size equals the map (CSS scales it). A canvas keeps its context,
 * its ImageData and what it shows: the same map (by content, for maps from the server) is not drawn again. */
export function drawMap(canvas, map, discretize = false) {
  if (!map) return;
  const key = map.key ?? map;
  if (canvas._shows === key && canvas._discrete === discretize) return;
  if (canvas.width !== map.w || canvas.height !== map.h) {
    canvas.width = map.w;
    canvas.height = map.h;
    canvas._img = null;
  }
  const ctx = canvas._ctx || (canvas._ctx = canvas.getContext("2d"));
  const img = canvas._img || (canvas._img = ctx.createImageData(map.w, map.h));
  const px = new Uint32Array(img.data.buffer); // one RGBA pixel per item, in the LUTs' byte order
  const n = map.w * map.h, bytes = map.bytes;
  if (map.classes) {
    const luts = discretize ? CLASS_LUTS_DISCRETE : CLASS_LUTS;
    for (let i = 0; i < n; i++) px[i] = (luts[map.classes[i]] || luts[0])[bytes[i]];
  } else {
    const lut = discretize ? LUT_DISCRETE : LUT;
    for (let i = 0; i < n; i++) px[i] = lut[bytes[i]];
  }
  ctx.putImageData(img, 0, 0);
  canvas._shows = key;
  canvas._discrete = discretize;
}

/** The seven input features, in TensorFlow Playground's order, with their functions and labels. */
export const FEATURES = [
  { key: "x", label: "X<sub>1</sub>", name: "X1", f: (x, y) => x },
  { key: "y", label: "X<sub>2</sub>", name: "X2", f: (x, y) => y },
  { key: "xSquared", label: "X<sub>1</sub><sup>2</sup>", name: "X1 squared", f: (x, y) => x * x },
  { key: "ySquared", label: "X<sub>2</sub><sup>2</sup>", name: "X2 squared", f: (x, y) => y * y },
  { key: "xTimesY", label: "X<sub>1</sub>X<sub>2</sub>", name: "X1 times X2", f: (x, y) => x * y },
  { key: "sinX", label: "sin(X<sub>1</sub>)", name: "sin(X1)", f: (x, y) => Math.sin(x) },
  { key: "sinY", label: "sin(X<sub>2</sub>)", name: "sin(X2)", f: (x, y) => Math.sin(y) },
];
