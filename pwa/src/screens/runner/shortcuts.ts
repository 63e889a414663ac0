// The runner's keyboard shortcuts, as the "?" dialog lists them.

export interface Shortcut {
  keys: string;
  what: string;
}

const STEPPING: Shortcut[] = [
  { keys: "Y / N", what: "Yes or No on a question" },
  { keys: "1 – 9", what: "Pick a choice; on an action: 1 done, 2 didn't work, 3 skip" },
  { keys: "Ctrl + Enter", what: "Continue: submit a value, mark an action done, finish at a resolution" },
  { keys: "Backspace or Alt + ←", what: "Step back" },
  { keys: "N (Shift + N on a question)", what: "Write in the notes box" },
  { keys: "C", what: "Add a custom step" },
];

/** The shortcuts that work in the view on screen: all of them while the engineer steps
 * through a session they may write to; in a finished, abandoned or read-only session (the
 * summary) only those the runner's key handler still honours there. */
export function shortcutsFor(stepping: boolean): Shortcut[] {
  return [
    ...(stepping ? STEPPING : []),
    { keys: "E", what: "Export" },
    { keys: "Esc", what: stepping ? "Leave a text box or close a dialog" : "Close a dialog" },
    { keys: "?", what: "This list" },
  ];
}

/** Fields whose keys are typing, not commands: text-like inputs, text areas, selects and
 * anything editable. A checkbox or a button keeps the shortcuts working. */
const NOT_TYPING = new Set(["button", "checkbox", "radio", "submit", "reset", "range", "color", "file", "image"]);

/** Whether a key pressed on `target` goes into a field; shortcuts must then stay quiet. Also
 * true while an input method composes a character (e.g. a kana or an accented letter). */
export function typingIn(target: EventTarget | null, composing = false): boolean {
  if (composing) return true;
  const el = target as HTMLElement | null;
  if (!el || typeof el.tagName !== "string") return false;
  const tag = el.tagName.toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return !NOT_TYPING.has(((el as HTMLInputElement).type || "text").toLowerCase());
  if (el.isContentEditable) return true;
  const role = el.getAttribute?.("role");
  return role === "textbox" || role === "searchbox" || role === "combobox";
}
