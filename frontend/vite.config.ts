import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// One build serves every stage: the API base URL comes from /config.json at run time.
export default defineConfig({
  plugins: [preact()],
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Everything as files: the console runs under a strict CSP (no inline script or style).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // Two pages: the console (index.html) and the guest page (guest.html), each its own bundle.
    rollupOptions: {
      input: { console: "index.html", guest: "guest.html" },
    },
  },
});
