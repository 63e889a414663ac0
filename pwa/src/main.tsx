import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./index.css";
import { App } from "./App";
import { boot } from "./data";
import { pageStorage } from "./data/storage";
import { FramedLauncher } from "./screens/FramedLauncher";
import { applyTheme } from "./theme";

const root = document.getElementById("root");
if (!root) {
  throw new Error("index.html has no #root element to mount Branchline into");
}
if (pageStorage) {
  applyTheme();
  boot();
}
// A page the active worker does not control (see public/sw-claim.js) asks to be claimed, so
// that going offline right after still finds every screen in the worker's cache.
if ("serviceWorker" in navigator) {
  void navigator.serviceWorker.ready.then((reg) => {
    if (!navigator.serviceWorker.controller) reg.active?.postMessage({ type: "BRANCHLINE_CLAIM" });
  });
}
createRoot(root).render(<StrictMode>{pageStorage ? <App /> : <FramedLauncher />}</StrictMode>);
