// Calls to the PSA routes (online only): the Integrations screen's and a session's push.
import { api, OfflineError } from "../data";
import { lookupOrder, type AutotaskConfig, type ConnectWiseConfig, type Integration, type PsaPush } from "./psa";

export const listIntegrations = () => api<{ items: Integration<unknown>[] }>("/api/v1/integrations");
export const saveConnectWise = (body: Partial<ConnectWiseConfig> & { private_key?: string }) =>
  api<ConnectWiseConfig>("/api/v1/integrations/connectwise", { method: "PUT", body });
export const configuredSystems = () => api<{ items: { system: string; name: string }[] }>("/api/v1/integrations/systems");
export const saveAutotask = (body: Record<string, unknown>) => api<AutotaskConfig>("/api/v1/integrations/autotask", { method: "PUT", body });
export const testConnection = (system: string) =>
  api<{ system: string; ok: boolean; at: string; zone?: { url: string; name: string } }>(`/api/v1/integrations/${encodeURIComponent(system)}/test`, { method: "POST" });
export const pushSession = (sid: string, body: Record<string, unknown>) =>
  api<PsaPush>(`/api/v1/sessions/${encodeURIComponent(sid)}/psa`, { method: "POST", body });
export const retryPush = (system: string, sid: string) =>
  api<PsaPush>(`/api/v1/integrations/${encodeURIComponent(system)}/pushes/${encodeURIComponent(sid)}/retry`, { method: "POST" });

export function psaErrorText(e: unknown): string {
  if (e instanceof OfflineError) return "The server cannot be reached: you seem to be offline. This needs a connection; try again once you are back online.";
  return e instanceof Error ? e.message : String(e);
}

/** A ticket as its PSA shows it now (`GET /api/v1/integrations/{system}/tickets/{ticket}`). */
export interface PsaTicketInfo {
  system: string;
  ticket: string;
  ticket_id: number;
  summary: string;
  status: string | null;
  url: string;
}

export const lookupTicket = (system: string, ticket: string) =>
  api<PsaTicketInfo>(`/api/v1/integrations/${encodeURIComponent(system)}/tickets/${encodeURIComponent(ticket)}`);

/** The ticket in the first of the team's PSAs that has it; null when none is configured or none
 * has it. Throws only when the server cannot be reached (OfflineError). */
export async function findTicket(ticket: string): Promise<PsaTicketInfo | null> {
  const systems = (await configuredSystems()).items.map((s) => s.system);
  for (const system of lookupOrder(systems, ticket)) {
    try {
      return await lookupTicket(system, ticket);
    } catch (e) {
      if (e instanceof OfflineError) throw e;
    }
  }
  return null;
}
