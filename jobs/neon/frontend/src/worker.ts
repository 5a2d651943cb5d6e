// verovio in a Web Worker: the stock npm build, which lays neumes out from the
// facsimile when the MEI is in the line-by-line form (interactive-jobs.md).
// Each message is a whole MEI document; the answer is its SVG, or the reason,
// with how long verovio took to read it and to draw it (the page reports them).
import createVerovioModule from "verovio/wasm";
import { VerovioToolkit } from "verovio/esm";

// Started as soon as the worker runs: the WASM compiles while the page fetches its image and saved work.
const started = performance.now();
/** When this worker began to run, in the page's time (ms after navigation): the page reports it. */
const evaluatedAt = performance.timeOrigin + started;
const ready = createVerovioModule().then((module) => {
  const toolkit = new VerovioToolkit(module);
  // No useFacsimile: with the npm build the transcription facsimile is enough.
  toolkit.setOptions({ footer: "none", header: "none", breaks: "none", svgViewBox: true, scale: 100,
    pageMarginLeft: 0, pageMarginRight: 0, pageMarginTop: 0, pageMarginBottom: 0 });
  return { toolkit, startup: performance.now() - started };
});

self.onmessage = async (event: MessageEvent<{ id: number; mei: string }>) => {
  const { id, mei } = event.data;
  try {
    const { toolkit, startup } = await ready;
    const t0 = performance.now();
    if (!toolkit.loadData(mei)) {
      self.postMessage({ id, error: `verovio could not read the MEI: ${toolkit.getLog().trim() || "no reason given"}` });
      return;
    }
    const t1 = performance.now();
    const svg = toolkit.renderToSVG(1);
    self.postMessage({ id, svg, times: { evaluatedAt, startup, load: t1 - t0, draw: performance.now() - t1, postedAt: performance.timeOrigin + performance.now() } });
  } catch (error) {
    self.postMessage({ id, error: `verovio stopped: ${String(error)}` });
  }
};
