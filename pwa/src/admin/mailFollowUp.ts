// When the Sent e-mail list reads the outbox again (pure, so it is tested without a page).

/** How long to wait before reading the outbox again, or null when every row is settled. */
export function followUpDelay(items: { status: string; next_attempt_at: string | null }[], now: number): number | null {
  let soonest: number | null = null;
  for (const m of items) {
    if (m.status !== "pending" && m.status !== "sending") continue;
    const due = m.status === "pending" && m.next_attempt_at ? Date.parse(m.next_attempt_at) - now : 0;
    const wait = due > 10_000 ? 15_000 : 2_000;
    soonest = soonest === null ? wait : Math.min(soonest, wait);
  }
  return soonest;
}
