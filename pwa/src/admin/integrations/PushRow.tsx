// One queued or failed PSA push on the Integrations screen: its session, where it stands
// (waiting, retrying, failed with the PSA's reason) and, for failed ones, "Retry now".
import type { PsaPush } from "../../psa/psa";
import { Button } from "../../ui/kit";

export function PushRow({ push, onRetry, busy }: { push: PsaPush; onRetry?: () => void; busy?: boolean }) {
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm" data-testid="psa-push">
      <div className="min-w-0">
        <p className="font-mono text-xs text-slate-600 dark:text-slate-400">Session {push.session_id}</p>
        <p className="text-slate-800 dark:text-slate-200">
          {push.status === "failed" ? "Failed" : push.status === "sending" ? "Sending now" : push.attempt_count ? `Retrying (attempt ${push.attempt_count + 1})` : "Waiting to send"}
          {push.last_error ? `: ${push.last_error}` : ""}
        </p>
      </div>
      {onRetry && (
        <Button busy={busy} onClick={onRetry}>
          Retry now
        </Button>
      )}
    </li>
  );
}
