// What the signed-in user may do with a session, by the same rules the server's sync policy
// enforces (api/sessions/access.py, DOCUMENTS.md "Access, per document"), so the runner never
// offers a change the server would refuse. Plus the small checks behind the session menu.

export interface SessionAcl {
  owner_id: string;
  shared_with?: string[] | null;
}

export interface Viewer {
  id: string;
  role: string;
}

export interface SessionRights {
  /** Answer, note, edit ticket and title, finish, abandon, reopen. */
  write: boolean;
  /** Change `shared_with` (the owner or an admin). */
  share: boolean;
  /** Why writing is not allowed, in words for the user; null when it is. */
  readOnlyReason: string | null;
}

export const MAX_FIELD = 500;

export function isAdminRole(role: string): boolean {
  return role === "owner" || role === "admin";
}

export function sessionRights(header: SessionAcl, me: Viewer): SessionRights {
  const admin = isAdminRole(me.role);
  const owner = header.owner_id === me.id;
  const shared = (header.shared_with || []).includes(me.id);
  if (me.role === "viewer") {
    return { write: false, share: false, readOnlyReason: "Viewers read sessions but do not run them; ask an admin for the engineer role." };
  }
  if (!admin && !owner && !shared) {
    return { write: false, share: false, readOnlyReason: "This session is not shared with you; ask its owner to add you." };
  }
  return { write: true, share: admin || owner, readOnlyReason: null };
}

export type DetailsCheck =
  | { ok: true; changes: { ticket: string | null; title: string } }
  | { ok: false; field: "ticket" | "title"; error: string };

/** The header fields from the edit form, or what is wrong with them. */
export function checkDetails(ticket: string, title: string): DetailsCheck {
  const t = title.trim();
  const k = ticket.trim();
  if (!t) return { ok: false, field: "title", error: "A session needs a title: say what is being fixed, e.g. “VDA CTX-W11-07 unregistered”." };
  if (t.length > MAX_FIELD) return { ok: false, field: "title", error: `Keep the title under ${MAX_FIELD} characters (it has ${t.length}).` };
  if (k.length > MAX_FIELD) return { ok: false, field: "ticket", error: `Keep the ticket number under ${MAX_FIELD} characters (it has ${k.length}).` };
  return { ok: true, changes: { ticket: k || null, title: t } };
}

/** `list` with `id` added (at the end) or removed; never a duplicate. */
export function withMember(list: readonly string[], id: string, on: boolean): string[] {
  const rest = list.filter((x) => x !== id);
  return on ? [...rest, id] : rest;
}

export function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/** The fields of an `abandoned` event: `reason` only when one was given. */
export function abandonFields(reason: string): { reason?: string } {
  const r = reason.trim();
  return r ? { reason: r } : {};
}
