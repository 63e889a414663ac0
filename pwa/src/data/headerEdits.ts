// Edits of a session header's fields, as a pure function so the device, the Node sync tests and
// the server's merge agree on what an edit is. When two devices edit a header offline the
// server merges the conflicting revisions field by field, latest `edited` time winning
// (DOCUMENTS.md). So a save may move a field's marker only when that field's value changed:
// a title-only save that stamped the unchanged ticket would make the stale ticket beat the
// other device's real change. `edited_values` records the value each marker was set for, so
// the server can still tell a moved-but-unchanged field from a real edit by an older writer.

export const HEADER_EDITABLE = ["ticket", "client_id", "title", "shared_with", "status", "owner_id"] as const;
export type HeaderField = (typeof HEADER_EDITABLE)[number];

export interface EditMark {
  at: number;
  value: unknown;
}

export interface HeaderMarks {
  edited?: Record<string, number>;
  edited_values?: Record<string, EditMark>;
  updated_at?: number;
  [field: string]: unknown;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The markers of a new header: every given field edited `now`, with the value it got. */
export function initialMarks(now: number, values: Partial<Record<HeaderField, unknown>>): { edited: Record<string, number>; edited_values: Record<string, EditMark> } {
  const edited: Record<string, number> = {};
  const edited_values: Record<string, EditMark> = {};
  for (const [field, value] of Object.entries(values)) {
    edited[field] = now;
    edited_values[field] = { at: now, value: value ?? null };
  }
  return { edited, edited_values };
}

/**
 * The header after `changes`, or null when nothing actually changes. Only fields whose value
 * differs are written and get `edited[field] = now`; the others keep their value and marker.
 */
export function applyHeaderEdit<H extends HeaderMarks>(header: H, changes: Partial<Record<HeaderField, unknown>>, now: number): H | null {
  const changed = Object.entries(changes).filter(([field, value]) => value !== undefined && !same(header[field], value));
  if (!changed.length) return null;
  const edited = { ...(header.edited || {}) };
  const edited_values = { ...(header.edited_values || {}) };
  const next: HeaderMarks = { ...header };
  for (const [field, value] of changed) {
    next[field] = value;
    edited[field] = now;
    edited_values[field] = { at: now, value: value ?? null };
  }
  return { ...next, edited, edited_values, updated_at: now } as H;
}
