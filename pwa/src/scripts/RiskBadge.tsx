// How risky running a script is, as its author marked it.
import type { Risk } from "./api";

const TONES: Record<Risk, string> = {
  low: "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200",
  medium: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200",
  high: "bg-rose-100 text-rose-900 dark:bg-rose-950 dark:text-rose-200",
};

export function RiskBadge({ risk }: { risk: Risk }) {
  return (
    <span data-testid="risk" className={`inline-flex shrink-0 items-center rounded-full px-2.5 py-0.5 text-xs font-semibold ${TONES[risk]}`}>
      {risk[0].toUpperCase() + risk.slice(1)} risk
    </span>
  );
}
