// A duration as users read it everywhere: in every export (twin of `_duration` in
// api/exports/render.py, checked by the golden exports) and in the runner's header.
export function duration(ms: unknown): string | null {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0) return null;
  const minutes = Math.floor((ms + 30_000) / 60_000);
  if (minutes === 0) return "under 1 min";
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}
