import { describe, expect, it } from "vitest";
import { shortcutsFor } from "./shortcuts";

const keys = (stepping: boolean) => shortcutsFor(stepping).map((s) => s.keys);

describe("shortcutsFor", () => {
  it("lists every shortcut while stepping through a session", () => {
    expect(keys(true)).toEqual(["Y / N", "1 – 9", "Ctrl + Enter", "Backspace or Alt + ←", "N (Shift + N on a question)", "C", "E", "Esc", "?"]);
  });

  it("lists only export, closing and this list on a session's summary", () => {
    expect(keys(false)).toEqual(["E", "Esc", "?"]);
    expect(shortcutsFor(false).find((s) => s.keys === "Esc")?.what).toBe("Close a dialog");
  });
});
