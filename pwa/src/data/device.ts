// A stable id for this browser profile: events carry it, and the fold breaks ties on it.
const KEY = "bl.device_id";

function randomId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function deviceId(storage: Storage = localStorage): string {
  let id = storage.getItem(KEY);
  if (!id) {
    id = `web-${randomId()}`;
    storage.setItem(KEY, id);
  }
  return id;
}
