// glassnet playground page: reads the server's schema (GET /api/defaults), builds the controls from it, talks to
// the server over one WebSocket (/ws, see PROTOCOL.md), keeps only the latest frame and draws it on
// requestAnimationFrame. The modules: page.js (shared state), connection.js (messages), controls.js,
// inspectors.js (the network drawing's handlers), drawing.js.
import { $, app, parseHash, typed } from "./page.js";
import { connect, note } from "./connection.js";
import { readDefaults, buildControls, updateControls } from "./controls.js";
import { createNetworkView, updateNetworkTopology } from "./inspectors.js";
import { draw, drawAxes } from "./drawing.js";
import { buildLens } from "./lens.js";

async function main() {
  app.hashState = parseHash(location.hash);
  let described;
  try {
    const r = await fetch("api/defaults", { cache: "no-store" });
    described = await r.json();
  } catch (e) {
    note(`The playground's server did not answer (${e}); reload the page once it runs.`, "error");
    return;
  }
  readDefaults(described);
  // Show the link's setup at once; the server's `state` reply (to the hash's text, sent on connect) is the truth.
  for (const [k, v] of Object.entries(app.hashState)) if (k in app.state) app.state[k] = typed(k, v);
  createNetworkView();
  buildControls();
  buildLens();
  drawAxes();
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
