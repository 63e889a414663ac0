import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";
import { VitePWA } from "vite-plugin-pwa";

// The service worker precaches the app shell so an engineer in a server room with no signal
// can still open the app; deep links fall back to index.html, where the client-side router
// (to come) takes over.
export default defineConfig({
  plugins: [
    react(),
    tailwindcss(),
    VitePWA({
      registerType: "autoUpdate",
      injectRegister: "auto",
      includeAssets: ["icon.svg"],
      manifest: {
        name: "Branchline",
        short_name: "Branchline",
        description: "Offline-first troubleshooting decision trees for MSP engineers",
        theme_color: "#0f172a",
        background_color: "#f8fafc",
        display: "standalone",
        start_url: "/",
        icons: [{ src: "icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" }],
      },
      workbox: {
        globPatterns: ["**/*.{js,css,html,svg,png,ico,webmanifest}"],
        importScripts: ["sw-claim.js"], // lets a page the worker did not claim ask to be (main.tsx)
        navigateFallback: "index.html",
        // The API and the sync endpoints must always reach the network (or fail visibly);
        // answering them from the shell would hide a missing connection from PouchDB. A
        // read-only share link (/share/) is the server's page, never the app, even in a
        // browser that has the app installed.
        navigateFallbackDenylist: [/^\/api\//, /^\/sync\//, /^\/share\//, /^\/docs/, /^\/openapi\.json/, /^\/healthz/],
      },
    }),
  ],
});
