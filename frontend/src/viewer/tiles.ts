// Waiting for a resource's tiles: the server makes them in the background
// (rodan.tiles), so a page polls its tiles URL, shows the progress as a
// sentence, and gets OpenSeadragon's tile source once they are ready.

/** An error to show as it is: the sentence says what happened and what to do. */
export class ViewerError extends Error {}

export interface TileProgress {
  message: string;
  percent: number | null;
}

type TileSource = NonNullable<import("openseadragon").Options["tileSources"]>;

interface TileStatus {
  state?: string;
  message?: string;
  percent?: number;
  tileSource?: TileSource;
}

const POLL_MS = 1000;
const UNREACHABLE = "The server could not be reached; trying again.";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `url` until the tiles are ready; `onProgress` hears every intermediate state. */
export async function waitForTiles(url: string, onProgress: (progress: TileProgress) => void): Promise<TileSource> {
  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    } catch {
      onProgress({ message: UNREACHABLE, percent: null });
      await pause(POLL_MS * 3);
      continue;
    }
    let body: TileStatus = {};
    try {
      body = (await response.json()) as TileStatus;
    } catch {
      // a proxy's HTML error page: the status code says enough below
    }
    if (!response.ok) {
      throw new ViewerError(body.message ?? `The server answered ${response.status} ${response.statusText}.`);
    }
    if (body.state === "ready" && body.tileSource) {
      return body.tileSource;
    }
    if (body.state === "failed") {
      throw new ViewerError(body.message ?? "The tiles of this image could not be made.");
    }
    const percent = body.state === "running" ? (body.percent ?? null) : null;
    onProgress({ message: body.message ?? "Preparing this image for viewing.", percent });
    await pause(body.state === "waiting" ? POLL_MS * 3 : POLL_MS);
  }
}
