// A setting that is shown as changed at once and saved with a PUT (a tree's teams, the
// workspace's publishing rule). Two quick changes sent side by side can reach the server in
// either order, and their answers can come back in either order too: the screen then shows
// one value while the server keeps the other, and nothing tells the admin. Here each change
// waits for the one before it, and the screen takes the server's answer only once nothing is
// left to send, so what it shows at rest is what the server keeps.
import { useCallback, useEffect, useState } from "react";

export type SaveState = "idle" | "saving" | "saved";

export interface SerialSaverView<T> {
  value: T | null;
  state: SaveState;
  error: string | null;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class SerialSaver<T> {
  private view: SerialSaverView<T> = { value: null, state: "idle", error: null };
  /** What the server last said it keeps (or what was loaded from it). */
  private confirmed: T | null = null;
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(
    private put: (value: T) => Promise<T>,
    private readonly show: (view: SerialSaverView<T>) => void,
  ) {}

  /** Where later changes are sent (a screen's request can change with what it shows). */
  sendWith(put: (value: T) => Promise<T>) {
    this.put = put;
  }

  private set(patch: Partial<SerialSaverView<T>>) {
    this.view = { ...this.view, ...patch };
    this.show(this.view);
  }

  /** The value as read from the server (no save). */
  loaded(value: T) {
    this.confirmed = value;
    this.set({ value, state: "idle", error: null });
  }

  get value(): T | null {
    return this.view.value;
  }

  get saving(): boolean {
    return this.waiting > 0;
  }

  /** Show `next` at once and save it after every change made before it. Resolves when saved or refused. */
  change(next: T): Promise<void> {
    this.waiting += 1;
    this.set({ value: next, state: "saving", error: null });
    this.queue = this.queue.then(async () => {
      let error: string | null = null;
      try {
        this.confirmed = await this.put(next);
      } catch (e) {
        error = errText(e);
      }
      this.waiting -= 1;
      // A later change that saved clears an earlier refusal: the screen then shows that save.
      if (error || this.waiting === 0) this.set({ error });
      if (this.waiting === 0) this.set({ value: this.confirmed, state: error ? "idle" : "saved" });
    });
    return this.queue;
  }
}

/** The saver as React state; warns before the page is closed while a change is on its way. */
export function useSerialSave<T>(put: (value: T) => Promise<T>) {
  const [view, setView] = useState<SerialSaverView<T>>({ value: null, state: "idle", error: null });
  const [saver] = useState(() => new SerialSaver<T>(put, setView));
  useEffect(() => saver.sendWith(put), [saver, put]);
  useEffect(() => {
    if (view.state !== "saving") return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [view.state]);
  const loaded = useCallback((v: T) => saver.loaded(v), [saver]);
  const change = useCallback((v: T) => void saver.change(v), [saver]);
  return { ...view, loaded, change };
}
