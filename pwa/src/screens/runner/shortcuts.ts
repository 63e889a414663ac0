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
