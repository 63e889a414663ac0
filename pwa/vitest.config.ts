import { defineConfig } from "vitest/config";

// Kept apart from vite.config.ts so unit tests run without the PWA and Tailwind plugins.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
