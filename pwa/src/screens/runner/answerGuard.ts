// One tap, one answer. A second tap of an impatient double tap arrives 150-300 ms after the
// first: either while the step it was meant for is still shown (its answer is being saved),
// or just after the next step replaced it, on whatever control now sits under the thumb.
// The first case is refused by the step the answer was made against; the second by keeping
// the new step's controls shut until it has been on screen longer than a double tap lasts
// (and longer than anyone needs to see a new step before answering it).
import type { SessionState } from "../../shared/fold";

/** How long a newly shown step's controls ignore taps. */
export const SETTLE_MS = 400;

/** The step as shown: its node and how far the session has come. Stepping back to a node, or
 *  an answer the fold refused, makes a new showing that can be answered again. */
export function stepKey(state: Pick<SessionState, "current_node" | "path" | "tried" | "ignored">): string {
  const refused = state.ignored.filter((i) => i.type === "answered").length;
  return `${state.current_node}#${state.path.length}#${state.tried.length}#${refused}`;
}

/** Takes at most one answer per showing of a step, and none made against a step no longer shown. */
export class AnswerGuard {
  private taken: string | null = null;

  /** Whether an answer made against `against` may be written now that `shown` is on screen. */
  take(against: string, shown: string): boolean {
    if (against !== shown || this.taken === shown) return false;
    this.taken = shown;
    return true;
  }

  /** The answer could not be saved: the same showing may be answered again. */
  release(key: string): void {
    if (this.taken === key) this.taken = null;
  }
}
