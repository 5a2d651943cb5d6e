// verovio in a Web Worker: the stock npm build, which lays neumes out from the
// facsimile when the MEI is in the line-by-line form (interactive-jobs.md).
// Each message is a whole MEI document; the answer is its SVG, or the reason.
import createVerovioModule from "verovio/wasm";
import { VerovioToolkit } from "verovio/esm";

const ready = createVerovioModule().then((module) => {
  const toolkit = new VerovioToolkit(module);
  // No useFacsimile: with the npm build the transcription facsimile is enough.
  toolkit.setOptions({ footer: "none", header: "none", breaks: "none", svgViewBox: true, scale: 100,
    pageMarginLeft: 0, pageMarginRight: 0, pageMarginTop: 0, pageMarginBottom: 0 });
  return toolkit;
});

self.onmessage = async (event: MessageEvent<{ id: number; mei: string }>) => {
  const { id, mei } = event.data;
  try {
    const toolkit = await ready;
    if (!toolkit.loadData(mei)) {
      self.postMessage({ id, error: `verovio could not read the MEI: ${toolkit.getLog().trim() || "no reason given"}` });
      return;
    }
    self.postMessage({ id, svg: toolkit.renderToSVG(1) });
  } catch (error) {
    self.postMessage({ id, error: `verovio stopped: ${String(error)}` });
  }
};
