// The resource viewer page (GET /api/resource/<u>/<token>/): waits for the
// image's tiles with a progress sentence, then opens them in the deep-zoom
// viewer. Every failure ends as a sentence in the status line.
import { openDeepZoom } from "./deepzoom";
import { ViewerError, waitForTiles } from "./tiles";

interface PageConfig {
  name: string;
  tilesUrl: string;
}

function showStatus(status: HTMLElement, message: string, percent: number | null = null) {
  status.replaceChildren(message);
  if (percent !== null) {
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = percent;
    bar.setAttribute("aria-hidden", "true");
    status.append(" ", bar);
  }
}

async function main() {
  const config = JSON.parse(document.getElementById("viewer-config")!.textContent!) as PageConfig;
  const status = document.getElementById("viewer-status")!;
  const area = document.getElementById("viewer")!;
  const toolbar = document.getElementById("viewer-tools")!;
  document.body.dataset.viewer = "waiting";
  performance.mark("viewer-start");
  try {
    const tileSource = await waitForTiles(config.tilesUrl, ({ message, percent }) => showStatus(status, message, percent));
    showStatus(status, "Loading the image…");
    const zoom = openDeepZoom({ element: area, tileSource, label: config.name, toolbar });
    zoom.viewer.addHandler("open-failed", (event) => {
      showStatus(status, `The image could not be opened: ${event.message}.`);
      document.body.dataset.viewer = "failed";
    });
    await zoom.firstView;
    performance.mark("viewer-first-view");
    showStatus(status, "");
    status.hidden = true;
    document.body.dataset.viewer = "ready";
  } catch (error) {
    const message = error instanceof ViewerError ? error.message : `The viewer stopped: ${String(error)}.`;
    showStatus(status, message);
    status.setAttribute("role", "alert");
    document.body.dataset.viewer = "failed";
  }
}

void main();
