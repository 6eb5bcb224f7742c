import { defineConfig } from "vite";

// The model and data files are not part of the app: users serve them beside it (see the README).
export default defineConfig({
  base: "./",
  build: { target: "es2022", outDir: "dist", sourcemap: true },
  worker: { format: "es" },
});
