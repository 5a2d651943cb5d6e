// Component tests (Vitest) for the logic that lives in the front ends: pure functions and the
// saved-work client, in Node with fetch and timers stubbed per test. `npm test` runs them;
// tests/frontend/test_vitest.py runs them from pytest.
import { defineConfig } from "vitest/config";

export default defineConfig({
  esbuild: { jsx: "automatic" },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
