// Calls to the PSA routes (online only): the Integrations screen's and a session's push.
import { api, OfflineError } from "../data";
import type { AutotaskConfig, ConnectWiseConfig, Integration, PsaPush } from "./psa";

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
