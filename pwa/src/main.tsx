import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./index.css";
import { ComingSoon } from "./ComingSoon";

const root = document.getElementById("root");
if (!root) {
  throw new Error("index.html has no #root element to mount Branchline into");
}
createRoot(root).render(
  <StrictMode>
    <ComingSoon />
  </StrictMode>,
);
