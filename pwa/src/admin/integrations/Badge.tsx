// A status word in a coloured pill; the colours reach 4.5:1 in both themes.
import type { Tone } from "./webhooks";

const TONES: Record<Tone, string> = {
  green: "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200",
  red: "bg-rose-100 text-rose-900 dark:bg-rose-950 dark:text-rose-200",
  amber: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200",
  grey: "bg-slate-200 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
};

export function Badge({ tone, children, testid }: { tone: Tone; children: string; testid?: string }) {
  return (
    <span className={`inline-flex shrink-0 items-center rounded-full px-2.5 py-0.5 text-xs font-semibold ${TONES[tone]}`} data-testid={testid}>
      {children}
    </span>
  );
}
