import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./index.css";
import { App } from "./App";
import { boot } from "./data";
import { applyTheme } from "./theme";

const root = document.getElementById("root");
if (!root) {
  throw new Error("index.html has no #root element to mount Branchline into");
}
applyTheme();
boot();
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
