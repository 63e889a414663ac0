// Light, dark, or follow the system; stored per device.
export type Theme = "system" | "light" | "dark";

export function applyTheme(theme?: Theme): void {
  const t = theme ?? ((localStorage.getItem("bl.theme") as Theme) || "system");
  localStorage.setItem("bl.theme", t);
  const dark = t === "dark" || (t === "system" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", dark);
}
