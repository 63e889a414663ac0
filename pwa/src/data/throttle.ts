// Typing saves as you go without flooding the event log: at most one write per interval per
// field (the first keystroke writes at once, the last one always lands), and a draft copy in
// localStorage on every keystroke so a crash or a closed tab loses nothing.

export interface ThrottleDeps {
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  storage?: Storage | null;
}

export class ThrottledSaver {
  private latest: string | null = null;
  private written: string | null;
  private lastWrite = -Infinity;
  private timer: unknown = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private write: (text: string) => Promise<void>,
    initial: string | null,
    private interval: number,
    private deps: ThrottleDeps,
    private draftKey: string | null = null,
  ) {
    this.written = initial;
  }

  /** The text typed but not written yet (from a previous page that closed), if any. */
  static leftover(storage: Storage, key: string): string | null {
    return storage.getItem(key);
  }

  update(text: string): void {
    this.latest = text;
    if (this.draftKey && this.deps.storage) this.deps.storage.setItem(this.draftKey, text);
    if (this.timer !== null) return;
    const wait = this.lastWrite + this.interval - this.deps.now();
    if (wait <= 0) void this.flush();
    else this.timer = this.deps.setTimer(() => void this.flush(), wait);
  }

  /** Write now what is waiting (on blur, on leaving the step, on page hide). */
  flush(): Promise<void> {
    if (this.timer !== null) {
      this.deps.clearTimer(this.timer);
      this.timer = null;
    }
    const text = this.latest;
    if (text === null) return this.chain;
    this.latest = null;
    if (text === this.written) {
      this.dropDraft(text);
      return this.chain;
    }
    this.lastWrite = this.deps.now();
    this.written = text;
    this.chain = this.chain
      .then(() => this.write(text))
      .then(
        () => this.dropDraft(text),
        () => {
          // Not written: keep the draft in storage and try again on the next change or flush.
          this.written = null;
          if (this.latest === null) this.latest = text;
        },
      );
    return this.chain;
  }

  private dropDraft(text: string): void {
    if (!this.draftKey || !this.deps.storage) return;
    if (this.latest === null && this.deps.storage.getItem(this.draftKey) === text) this.deps.storage.removeItem(this.draftKey);
  }

  get hasUnsaved(): boolean {
    return this.latest !== null;
  }
}

export const browserTimers: Omit<ThrottleDeps, "storage"> = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
