// One Vite build for every browser front end: each page is an entry, and the
// output goes into the Python package (rodan/static/frontend/), where Django
// serves it at /static/frontend/ and rodan.frontend reads the manifest.
// JSX is compiled by esbuild (React's automatic runtime): the app needs no
// Fast Refresh, so no React plugin.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/static/frontend/",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "../rodan/static/frontend",
    emptyOutDir: true,
    manifest: "manifest.json",
    target: "es2020",
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // React libraries mark modules "use client" for server rendering, which a browser bundle ignores.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
      input: {
        viewer: "src/viewer/page.ts",
        app: "src/app/main.tsx",
      },
    },
  },
});
