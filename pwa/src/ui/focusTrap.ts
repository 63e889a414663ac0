// Keeps Tab and Shift+Tab inside an open dialog and lets only the topmost dialog answer
// keys, so a dialog opened from another closes alone on Escape.
import { useEffect, useEffectEvent, type RefObject } from "react";

/**
 * Where Tab should go instead of where the browser would take it: the index among the
 * dialog's `count` tab stops to focus, or null to let the browser move on inside the dialog.
 * `index` is the stop that has focus, -1 when focus is not on one of them (the dialog itself,
 * or somewhere behind it).
 */
export function trapTarget(count: number, index: number, backwards: boolean): number | null {
  if (count === 0) return null;
  if (index < 0) return backwards ? count - 1 : 0;
  if (backwards && index === 0) return count - 1;
  if (!backwards && index === count - 1) return 0;
  return null;
}

const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex], [contenteditable=true]";

/** Whether `el` sits in the folded part of a closed <details> (its own <summary> does not).
 * Chromium still gives such elements boxes, but Tab passes over them: counted as stops, the
 * trap would leave the last real stop to the browser, which takes focus out of the dialog. */
function foldedAway(el: HTMLElement): boolean {
  for (let d = el.closest("details"); d; d = d.parentElement?.closest("details") ?? null) {
    if (d.open) continue;
    const summary = d.querySelector(":scope > summary");
    if (!summary || !summary.contains(el)) return true;
  }
  return false;
}

/** The elements Tab visits inside `root`, in order; a radio group counts once, as the browser does. */
export function tabStops(root: HTMLElement): HTMLElement[] {
  const all = Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) =>
      el.tabIndex >= 0 &&
      !(el as HTMLButtonElement).disabled &&
      !(el instanceof HTMLInputElement && el.type === "hidden") &&
      !el.closest("[inert], [hidden]") &&
      !foldedAway(el) &&
      el.getClientRects().length > 0,
  );
  return all.filter((el) => {
    if (!(el instanceof HTMLInputElement) || el.type !== "radio" || !el.name) return true;
    const group = all.filter((o): o is HTMLInputElement => o instanceof HTMLInputElement && o.type === "radio" && o.name === el.name);
    const checked = group.find((o) => o.checked);
    return checked ? el === checked : el === group[0];
  });
}

const open: HTMLElement[] = [];

/** Registers an open dialog; answers a function that unregisters it. */
export function pushDialog(el: HTMLElement): () => void {
  open.push(el);
  return () => {
    const i = open.lastIndexOf(el);
    if (i >= 0) open.splice(i, 1);
  };
}

export function isTopDialog(el: HTMLElement): boolean {
  return open[open.length - 1] === el;
}

/** Handles Tab for the dialog `root`; true when it moved focus itself. */
export function trapTab(root: HTMLElement, e: KeyboardEvent): boolean {
  const stops = tabStops(root);
  const target = trapTarget(stops.length, stops.indexOf(document.activeElement as HTMLElement), e.shiftKey);
  if (target === null) {
    // A dialog with nothing to focus keeps focus on itself.
    if (stops.length === 0) {
      e.preventDefault();
      root.focus();
      return true;
    }
    return false;
  }
  e.preventDefault();
  stops[target].focus();
  return true;
}

/**
 * A modal's keyboard behaviour: focus moves in on open (its first field, else the dialog),
 * Tab and Shift+Tab cycle inside, Escape calls `onEscape` (when given), and on close focus
 * goes back to the element that had it before, usually the button that opened the dialog.
 */
export function useModalFocus(ref: RefObject<HTMLElement | null>, onEscape?: () => void): void {
  // The latest onEscape, called when Escape is pressed; true when there was one. Callers
  // often pass a new function on every render; were it a dependency of the effect below,
  // each re-render of the page behind the dialog (a synced change arriving) would move focus
  // back to the first field while the engineer types in another.
  const escape = useEffectEvent((): boolean => {
    if (!onEscape) return false;
    onEscape();
    return true;
  });
  useEffect(() => {
    const root = ref.current;
    if (!root) return;
    const opener = document.activeElement as HTMLElement | null;
    const field = tabStops(root).find((el) => el.matches("textarea, input, select, button[data-autofocus]"));
    (field ?? root).focus();
    const pop = pushDialog(root);
    const onKey = (e: KeyboardEvent) => {
      if (!isTopDialog(root)) return;
      if (e.key === "Escape") {
        if (escape()) e.stopPropagation();
      } else if (e.key === "Tab") {
        trapTab(root, e);
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => {
      window.removeEventListener("keydown", onKey, true);
      pop();
      if (opener?.isConnected) opener.focus();
    };
  }, [ref]);
}
