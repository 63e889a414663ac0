import { describe, expect, it } from "vitest";
import { shortcutsFor, typingIn } from "./shortcuts";

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

describe("typingIn", () => {
  const el = (tagName: string, extra: Record<string, unknown> = {}) =>
    ({ tagName, isContentEditable: false, getAttribute: (name: string) => (extra[name] as string) ?? null, ...extra }) as unknown as EventTarget;

  it("treats text fields, text areas, selects and editable elements as typing", () => {
    expect(typingIn(el("INPUT", { type: "text" }))).toBe(true);
    expect(typingIn(el("INPUT", { type: "search" }))).toBe(true);
    expect(typingIn(el("TEXTAREA"))).toBe(true);
    expect(typingIn(el("SELECT"))).toBe(true);
    expect(typingIn(el("DIV", { isContentEditable: true }))).toBe(true);
    expect(typingIn(el("DIV", { role: "textbox" }))).toBe(true);
  });

  it("leaves shortcuts on for buttons, checkboxes and the page itself", () => {
    expect(typingIn(el("BUTTON"))).toBe(false);
    expect(typingIn(el("INPUT", { type: "checkbox" }))).toBe(false);
    expect(typingIn(el("H2"))).toBe(false);
    expect(typingIn(null)).toBe(false);
  });

  it("counts a character being composed as typing wherever focus is", () => {
    expect(typingIn(el("H2"), true)).toBe(true);
  });
});
