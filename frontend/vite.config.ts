// One Vite build for every browser front end: each page is an entry, and the
// output goes into the Python package (rodan/static/frontend/), where Django
// serves it at /static/frontend/ and rodan.frontend reads the manifest.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/static/frontend/",
  build: {
    outDir: "../rodan/static/frontend",
    emptyOutDir: true,
    manifest: "manifest.json",
    target: "es2020",
    rollupOptions: {
      input: {
        viewer: "src/viewer/page.ts",
      },
    },
  },
});
