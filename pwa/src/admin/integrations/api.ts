// The Integrations screen's calls to the webhook routes (owners and admins; online only).
import { api, OfflineError } from "../../data";
import type { Delivery, Page, Webhook } from "./webhooks";

const base = "/api/v1/webhooks";
const one = (id: string) => `${base}/${encodeURIComponent(id)}`;

export const listWebhooks = () => api<Page<Webhook>>(`${base}?limit=200`);
export const createWebhook = (body: { url: string; events: string[]; description: string; preset: string }) =>
  api<Webhook & { secret: string }>(base, { method: "POST", body });
export const updateWebhook = (id: string, body: Partial<Pick<Webhook, "events" | "description" | "enabled">>) =>
  api<Webhook>(one(id), { method: "PATCH", body });
export const deleteWebhook = (id: string) => api<Webhook>(one(id), { method: "DELETE" });
export const sendTest = (id: string) => api<Delivery>(`${one(id)}/test`, { method: "POST" });
export const listDeliveries = (id: string, limit: number, cursor?: string | null) =>
  api<Page<Delivery>>(`${one(id)}/deliveries?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
export const retryDelivery = (id: string, deliveryId: string) =>
  api<Delivery>(`${one(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`, { method: "POST" });

export function errorText(e: unknown): string {
  if (e instanceof OfflineError) return "The server cannot be reached: you seem to be offline. Managing webhooks needs a connection; try again once you are back online.";
  return e instanceof Error ? e.message : String(e);
}

