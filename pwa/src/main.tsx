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
createRoot(root).render(<StrictMode>{pageStorage ? <App /> : <FramedLauncher />}</StrictMode>);
