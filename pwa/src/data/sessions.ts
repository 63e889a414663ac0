// Sessions on the device: headers and events written straight into the local `sessions`
// database (DOCUMENTS.md), folded with the same fold as the server.
import type { Doc } from "pouchdb-browser";
import type { EventFields, EventType } from "../shared/eventTypes";
import { foldSession, type SessionState } from "../shared/fold";
import { ulid } from "../shared/ulid";
import { applyHeaderEdit, initialMarks, type EditMark } from "./headerEdits";
import type { LocalData } from "./local";

export interface SessionHeader extends Doc {
  type: "session";
  schema_version: 1;
  tree_id: string;
  tree_version: number;
  ticket: string | null;
  client_id: string | null;
  title: string | null;
  owner_id: string;
  shared_with: string[];
  status: "in_progress" | "completed" | "abandoned";
  created_at: number;
  updated_at: number;
  device_id: string;
  edited: Record<string, number>;
  edited_values?: Record<string, EditMark>;
  /** Written by the server once the session is in the PSA (DOCUMENTS.md); never by a device. */
  psa?: PsaLink | null;
}

export interface PsaLink {
  system: string;
  ticket_id: number;
  ticket_url: string;
  pushed_at: string;
  summary?: string | null;
  status?: string | null;
}

export interface EventDoc extends Doc {
  type: string;
  session_id: string;
  ts: number;
  device_id: string;
  user_id: string;
}

export interface SessionBundle {
  header: SessionHeader;
  events: EventDoc[];
  treeVersion: Doc | null;
  tree: Doc | null;
  client: Doc | null;
}

export const headerId = (sid: string) => `session:${sid}`;
export const eventPrefix = (sid: string) => `session:${sid}:ev:`;
export const isHeaderId = (id: string) => /^session:[0-9A-HJKMNP-TV-Z]{26}$/.test(id);
export const treeVersionId = (treeId: string, version: number) =>
  `treever:${treeId.replace(/^tree:/, "")}:${version}`;

export interface NewSession {
  treeId: string;
  version: number;
  ticket: string;
  clientId: string | null;
  title: string;
}

export async function startSession(local: LocalData, device: string, now: number, input: NewSession): Promise<string> {
  const sid = ulid(now);
  const fields = {
    ticket: input.ticket.trim() || null,
    client_id: input.clientId || null,
    title: input.title.trim() || null,
    shared_with: [] as string[],
    status: "in_progress" as const,
  };
  const header: SessionHeader = {
    _id: headerId(sid),
    type: "session",
    schema_version: 1,
    tree_id: input.treeId,
    tree_version: input.version,
    ...fields,
    owner_id: local.account.user.id,
    created_at: now,
    updated_at: now,
    device_id: device,
    ...initialMarks(now, fields),
  };
  await local.put("sessions", header);
  return sid;
}

/**
 * Write one event document; events are never edited, so this cannot conflict. Its fields are
 * typed by the schema the server applies (shared/eventTypes.ts, generated from it).
 */
export async function addEvent<T extends EventType>(
  local: LocalData,
  device: string,
  now: number,
  sid: string,
  type: T,
  fields: EventFields[T],
): Promise<EventDoc> {
  const doc: EventDoc = {
    _id: eventPrefix(sid) + ulid(now),
    type,
    schema_version: 1,
    session_id: sid,
    ts: now,
    device_id: device,
    user_id: local.account.user.id,
    ...fields,
  };
  await local.put("sessions", doc);
  return doc;
}

/**
 * Change header fields (latest edit wins per field on the server). Only fields whose value
 * differs are written and marked edited, so saving a form that also carries an unchanged
 * field cannot override another device's edit of that field.
 */
export async function editHeader(
  local: LocalData,
  now: number,
  sid: string,
  changes: Partial<Pick<SessionHeader, "ticket" | "title" | "client_id" | "status" | "shared_with">>,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const header = (await local.db.sessions.get(headerId(sid))) as SessionHeader;
    const next = applyHeaderEdit(header, changes, now);
    if (!next) return;
    try {
      await local.put("sessions", next);
      return;
    } catch (e) {
      if ((e as { status?: number }).status !== 409) throw e;
    }
  }
}

export async function loadBundle(local: LocalData, sid: string): Promise<SessionBundle> {
  const header = (await local.db.sessions.get(headerId(sid))) as SessionHeader;
  const rows = await local.db.sessions.allDocs({
    include_docs: true,
    startkey: eventPrefix(sid),
    endkey: eventPrefix(sid) + "\uffff",
  });
  const events = rows.rows.map((r) => r.doc as EventDoc).filter(Boolean);
  let treeVersion: Doc | null;
  try {
    treeVersion = await local.db.trees.get(treeVersionId(header.tree_id, header.tree_version));
  } catch {
    treeVersion = null; // not pulled yet
  }
  let client: Doc | null = null;
  if (header.client_id) {
    try {
      client = await local.db.clients.get(header.client_id);
    } catch {
      client = null;
    }
  }
  const tree = treeVersion && typeof treeVersion.tree === "object" ? (treeVersion.tree as Doc) : null;
  return { header, events, treeVersion, tree, client };
}

export function foldBundle(b: SessionBundle, nowMs: number | null = null): SessionState {
  return foldSession(b.tree, b.events, b.header, b.client, nowMs);
}

/** Call `onChange` whenever a document of this session changes locally (written or pulled). */
export function watchSession(local: LocalData, sid: string, onChange: () => void): () => void {
  const prefix = headerId(sid);
  const feed = local.db.sessions.changes({
    since: "now",
    live: true,
    filter: (doc: Doc) => doc._id === prefix || doc._id.startsWith(prefix + ":"),
  });
  feed.on("change", onChange);
  return () => feed.cancel();
}

/** This session's documents (its header, its events) the server does not have yet. */
export function unsentOf(local: Pick<LocalData, "pending">, sid: string): string[] {
  const prefix = headerId(sid);
  return local.pending.sessions.ids.filter((id) => id === prefix || id.startsWith(prefix + ":"));
}

/**
 * Wait until the server has every change this device made to session `sid` (true), or
 * `timeoutMs` is up (false). A request the server checks against its own copy of the session
 * (a script run's step, a PSA push of a finished session) would otherwise race the live
 * replication of the answer given a moment before and be refused. `onWaiting` is called
 * once, and only when there is something to wait for (the screen says it is syncing).
 * `signal` calls the wait off (false at once): the engineer cancelled, or left the screen.
 * Like `LocalData.drain`, it asks the server (`_revs_diff`), not the replication's events.
 */
export async function sessionSent(local: Pick<LocalData, "pending" | "confirm">, sid: string, timeoutMs: number, onWaiting?: () => void, signal?: AbortSignal): Promise<boolean> {
  if (!unsentOf(local, sid).length) return true;
  onWaiting?.();
  const deadline = Date.now() + timeoutMs;
  // Resolves after `ms`, or at once when the wait is called off.
  const pause = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        signal?.removeEventListener("abort", done);
        r();
      }
      signal?.addEventListener("abort", done);
    });
  for (;;) {
    if (signal?.aborted) return false;
    // A stalled connection must not hold the wait past its deadline: the check is not
    // awaited beyond it (it finishes in the background).
    await Promise.race([local.confirm(), pause(deadline - Date.now())]);
    if (!unsentOf(local, sid).length) return true;
    if (signal?.aborted || Date.now() >= deadline) return false;
    await pause(300);
  }
}

/** Every session header on the device, newest first. */
export async function listHeaders(local: LocalData): Promise<SessionHeader[]> {
  const ids = await local.db.sessions.allDocs({ startkey: "session:", endkey: "session:\uffff" });
  const headerIds = ids.rows.map((r) => r.id).filter(isHeaderId);
  if (!headerIds.length) return [];
  const docs = await local.db.sessions.allDocs({ keys: headerIds, include_docs: true });
  return docs.rows
    .map((r) => r.doc as SessionHeader | undefined)
    .filter((d): d is SessionHeader => !!d && d.type === "session")
    .sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
}

export function watchAll(local: LocalData, name: "sessions" | "trees" | "clients", onChange: () => void): () => void {
  const feed = local.db[name].changes({ since: "now", live: true });
  feed.on("change", onChange);
  return () => feed.cancel();
}
