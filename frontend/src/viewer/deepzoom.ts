// The deep-zoom image viewer every page reuses (the resource viewer, Pixel,
// the web application): OpenSeadragon on server-made Deep Zoom tiles, with
// our own labelled buttons instead of OpenSeadragon's image buttons (nothing
// is fetched from elsewhere), keyboard control on the focused image, and
// sharp pixels once the image is shown larger than it is.
import OpenSeadragon from "openseadragon";
import "./viewer.css";

export interface DeepZoomOptions {
  /** Where the image is drawn. */
  element: HTMLElement;
  /** OpenSeadragon's tile source, e.g. the inline Deep Zoom descriptor from `waitForTiles`. */
  tileSource: NonNullable<OpenSeadragon.Options["tileSources"]>;
  /** What the image is, read out when it gets focus. */
  label: string;
  /** Where the zoom buttons go; none are made without it. */
  toolbar?: HTMLElement;
  /** How far past its real size the image may be enlarged (screen pixels per image pixel). */
  maxPixelRatio?: number;
}

export interface DeepZoom {
  viewer: OpenSeadragon.Viewer;
  /** Show one image pixel per screen pixel, around the centre of the view. */
  actualPixels(): void;
  /** Resolves when the tiles of the first view have all been drawn. */
  firstView: Promise<void>;
}

const KEYS_HELP = "Arrow keys or W A S D move, + and − zoom, 0 shows the whole image, 1 shows actual pixels.";

export function openDeepZoom(options: DeepZoomOptions): DeepZoom {
  const viewer = OpenSeadragon({
    element: options.element,
    tileSources: options.tileSource,
    // The 2-D canvas drawer, not WebGL: where the browser has no GPU (virtual desktops, headless
    // chromium) WebGL runs in software and one frame took 0.4-1.4 s on a Neon page, and it
    // competes with the editors' own work on the main thread; canvas drawing of tiles is cheap anywhere.
    drawer: "canvas",
    showNavigationControl: false,
    showNavigator: true,
    navigatorPosition: "BOTTOM_RIGHT",
    maxZoomPixelRatio: options.maxPixelRatio ?? 16,
    visibilityRatio: 0.5,
    crossOriginPolicy: false,
    preserveImageSizeOnResize: true,
    gestureSettingsMouse: { clickToZoom: false },
  });

  const actualPixels = () => {
    viewer.viewport.zoomTo(viewer.viewport.imageToViewportZoom(1 / OpenSeadragon.pixelDensityRatio));
  };

  // Past one screen pixel per image pixel, show pixels as squares rather than blurred.
  viewer.addHandler("zoom", (event) => {
    if (event.zoom === undefined || viewer.world.getItemCount() === 0) return;
    const enlarged = viewer.viewport.viewportToImageZoom(event.zoom) * OpenSeadragon.pixelDensityRatio > 1;
    viewer.drawer.setImageSmoothingEnabled(!enlarged);
  });

  const canvas = viewer.canvas;
  canvas.setAttribute("role", "application");
  canvas.setAttribute("aria-roledescription", "zoomable image");
  canvas.setAttribute("aria-label", `${options.label}. ${KEYS_HELP}`);
  canvas.addEventListener("keydown", (event) => {
    if (event.key === "1" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      actualPixels();
      event.preventDefault();
    }
  });

  if (options.toolbar) {
    addButtons(options.toolbar, viewer, actualPixels);
  }

  const firstView = new Promise<void>((resolve) => {
    viewer.addOnceHandler("open", () => {
      const item = viewer.world.getItemAt(0);
      if (item.getFullyLoaded()) resolve();
      else item.addOnceHandler("fully-loaded-change", () => resolve());
    });
  });
  viewer.addOnceHandler("open", () => canvas.focus());
  return { viewer, actualPixels, firstView };
}

function addButtons(toolbar: HTMLElement, viewer: OpenSeadragon.Viewer, actualPixels: () => void) {
  const button = (label: string, keys: string, action: () => void) => {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.setAttribute("aria-keyshortcuts", keys);
    element.title = `${label} (key ${keys})`;
    element.addEventListener("click", () => {
      action();
      viewer.canvas.focus();
    });
    toolbar.append(element);
  };
  button("Zoom in", "+", () => viewer.viewport.zoomBy(1.5));
  button("Zoom out", "-", () => viewer.viewport.zoomBy(1 / 1.5));
  button("Whole image", "0", () => viewer.viewport.goHome());
  button("Actual pixels", "1", actualPixels);
  if (document.fullscreenEnabled) {
    button("Full screen", "Escape", () => viewer.setFullScreen(!viewer.isFullPage()));
  }
}
