// Where a PSA connector stands, the same for every PSA: set up or not, needing attention (a
// failed push or a failed connection test), sending, or connected; the last success and error;
// the pushes waiting, failed ones with "Retry now" while online.
import type { ReactNode } from "react";
import type { Integration, PsaPush } from "../../psa/psa";
import { Card } from "../../ui/kit";
import { Badge } from "./Badge";
import { PushRow } from "./PushRow";

interface Props {
  /** Prefix of the test ids ("cw", "at"): each section's elements stay addressable. */
  prefix: string;
  info: Integration<unknown>;
  label: string;
  online: boolean;
  retrying: string | null;
  onRetry: (push: PsaPush) => void;
  /** Facts only this PSA has (Autotask's zone), shown beside the badge. */
  extra?: ReactNode;
}

export function ConnectorStatus({ prefix, info, label, online, retrying, onRetry, extra }: Props) {
  const broken = info.failed.length > 0 || info.last_check?.ok === false;
  return (
    <Card className="space-y-2 p-4">
      <div className="flex flex-wrap items-center gap-2" data-testid={`${prefix}-status`}>
        <Badge tone={!info.configured ? "grey" : broken ? "red" : info.queued.length ? "amber" : "green"}>
          {!info.configured ? "Not set up" : broken ? "Needs attention" : info.queued.length ? "Sending" : "Connected"}
        </Badge>
        {extra}
        {info.last_success && (
          <span className="text-sm text-slate-700 dark:text-slate-300" data-testid={`${prefix}-last-success`}>
            Last sent {new Date(info.last_success.at).toLocaleString()} to ticket #{info.last_success.ticket_id}
          </span>
        )}
      </div>
      {info.last_error && (
        <p className="text-sm text-rose-800 dark:text-rose-200" data-testid={`${prefix}-last-error`}>
          <span className="font-semibold">Last error</span> ({new Date(info.last_error.at).toLocaleString()}): {info.last_error.reason}
        </p>
      )}
      {(info.queued.length > 0 || info.failed.length > 0) && (
        <ul className="divide-y divide-slate-200 dark:divide-slate-800" aria-label={`${label} pushes waiting`}>
          {info.failed.map((p) => (
            <PushRow key={p.session_id} push={p} busy={retrying === p.session_id} onRetry={online ? () => onRetry(p) : undefined} />
          ))}
          {info.queued.map((p) => (
            <PushRow key={p.session_id} push={p} />
          ))}
        </ul>
      )}
    </Card>
  );
}
