// Pixel's page, built into dist/ (the Makefile and the worker image's Node stage
// copy it to jobs/pixel/static/build/, which the working URL serves). File
// names are fixed: the job's template names them, with a version query.
// The deep-zoom viewer is the web application's own (frontend/src/viewer),
// imported in place, with OpenSeadragon resolved from this project's packages.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: "./",
  resolve: {
    alias: [
      { find: "@viewer", replacement: here("../../../frontend/src/viewer") },
      { find: "@interactive", replacement: here("../../../frontend/src/interactive") },
      { find: /^openseadragon$/, replacement: here("node_modules/openseadragon") },
    ],
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    rollupOptions: {
      input: here("src/main.ts"),
      output: { entryFileNames: "pixel.js", assetFileNames: "pixel[extname]", inlineDynamicImports: true },
    },
  },
});
