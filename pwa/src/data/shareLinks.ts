// Read-only share links of a session (server: api/share/). They live on the server only, so
// every call here needs a connection; the dialog says so when there is none.
import { api } from "./index";

export interface ShareLink {
  id: string;
  session_id: string;
  state: "active" | "expired" | "revoked";
  attachments: boolean;
  created_at: string;
  created_by: string;
  expires_at: string;
  revoked_at: string | null;
  first_viewed_at: string | null;
}

/** The answer to creating a link: the only time its address (with the secret) is shown. */
export interface CreatedShareLink extends ShareLink {
  url: string;
}

export const EXPIRY_CHOICES = [1, 7, 30] as const;

export function listShareLinks(sid: string): Promise<ShareLink[]> {
  return api<{ items: ShareLink[] }>(`/api/v1/sessions/${sid}/share-links?limit=200`).then((r) => r.items);
}

export function createShareLink(sid: string, expiresInDays: number, attachments: boolean): Promise<CreatedShareLink> {
  return api<CreatedShareLink>(`/api/v1/sessions/${sid}/share-links`, { method: "POST", body: { expires_in_days: expiresInDays, attachments } });
}

export function revokeShareLink(sid: string, linkId: string): Promise<void> {
  return api<void>(`/api/v1/sessions/${sid}/share-links/${linkId}`, { method: "DELETE" });
}

/** How a link's state reads in the list, e.g. "Works until 10 Dec, 14:05" or "Revoked". */
export function linkStatus(link: ShareLink, format: (iso: string) => string): string {
  if (link.state === "revoked") return `Revoked ${format(link.revoked_at || link.expires_at)}`;
  if (link.state === "expired") return `Expired ${format(link.expires_at)}`;
  return `Works until ${format(link.expires_at)}`;
}
