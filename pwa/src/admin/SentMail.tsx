// The workspace's e-mail outbox on the Members page (owners and admins): what was e-mailed
// (invitations, review notices), whether the mail server took it, and its last answer.
import { useCallback, useEffect, useState } from "react";
import { api } from "../data";
import { followUpDelay } from "./mailFollowUp";
import { Button, Card, ErrorBox, Loading, timeAgo } from "../ui/kit";

export interface MailNotice {
  configured: boolean;
  queued: { id: string; to: string; status: string }[];
  reason: string | null;
}

interface MailItem {
  id: string;
  kind: string;
  to: string;
  subject: string;
  status: "pending" | "sending" | "delivered" | "failed";
  created_at: string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_error: string | null;
}

const STATUS: Record<MailItem["status"], { label: string; cls: string }> = {
  pending: { label: "Waiting", cls: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-100" },
  sending: { label: "Sending", cls: "bg-sky-100 text-sky-900 dark:bg-sky-950 dark:text-sky-100" },
  delivered: { label: "Sent", cls: "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100" },
  failed: { label: "Failed", cls: "bg-rose-100 text-rose-900 dark:bg-rose-950 dark:text-rose-100" },
};

/** What the answer of an invitation says about its e-mail, for the box that shows the link. */
export function invitationTitle(email: string, r: { emailed?: boolean; mail?: MailNotice }, resent: boolean): string {
  if (r.emailed) return `Invitation e-mailed to ${email} (valid 7 days). You can also copy the link:`;
  const why = r.mail && !r.mail.configured ? " This server sends no e-mail." : "";
  return resent
    ? `New invitation for ${email}: send them this link (valid 7 days). The earlier link no longer works.${why}`
    : `Invitation for ${email}: send them this link (valid 7 days).${why}`;
}

export function SentMail({ refresh }: { refresh: number }) {
  const [data, setData] = useState<{ configured: boolean; items: MailItem[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reads, setReads] = useState(0); // moves on after every read, answered or failed
  const load = useCallback(() => {
    api<{ configured: boolean; items: MailItem[] }>("/api/v1/mail?limit=20")
      .then(
        (r) => {
          setError(null);
          setData(r);
        },
        (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
      )
      .finally(() => setReads((n) => n + 1));
  }, []);
  // Read again whenever the page e-mailed something (an invitation sent or resent).
  useEffect(load, [load, refresh]);
  // A row still on its way follows its mail by itself: "Sending" turns into "Sent" (or an
  // error) without the admin having to think of Refresh. Soon while the server is at it or
  // about to retry, then slower for a retry scheduled minutes ahead (or after a failed read).
  // A hidden tab reads nothing until it is shown again, and then reads at once.
  useEffect(() => {
    const due = data?.configured ? followUpDelay(data.items, Date.now()) : null;
    if (due === null) return;
    if (document.visibilityState !== "visible") {
      const onShow = () => {
        if (document.visibilityState === "visible") load();
      };
      document.addEventListener("visibilitychange", onShow);
      return () => document.removeEventListener("visibilitychange", onShow);
    }
    const timer = window.setTimeout(load, error ? Math.max(due, 15_000) : due);
    return () => window.clearTimeout(timer);
  }, [data, error, reads, load]);
  return (
    <section aria-labelledby="sent-mail" className="space-y-2" data-testid="sent-mail">
      <div className="flex items-center justify-between gap-2">
        <h2 id="sent-mail" className="text-lg font-semibold text-slate-900 dark:text-white">
          Sent e-mail
        </h2>
        <Button className="!min-h-9 !text-sm" onClick={load}>
          Refresh
        </Button>
      </div>
      {error && <ErrorBox onRetry={load}>{error}</ErrorBox>}
      {!data && !error && <Loading />}
      {data && !data.configured && (
        <Card className="p-4 text-sm text-slate-600 dark:text-slate-300">
          <p data-testid="mail-off">This server sends no e-mail, so invitation links are shown for you to pass on. The operator turns e-mail on with BRANCHLINE_SMTP_URL and BRANCHLINE_MAIL_FROM.</p>
        </Card>
      )}
      {data?.configured && data.items.length === 0 && <Card className="p-4 text-sm text-slate-500">Nothing e-mailed yet.</Card>}
      {data?.configured && data.items.length > 0 && (
        <Card className="divide-y divide-slate-100 dark:divide-slate-800">
          {data.items.map((m) => (
            <div key={m.id} className="flex flex-wrap items-start gap-x-3 gap-y-1 px-4 py-3 text-sm" data-testid="mail-row" data-to={m.to}>
              <div className="min-w-0 flex-1">
                <p className="truncate font-semibold text-slate-900 dark:text-white">{m.subject}</p>
                <p className="truncate text-slate-500">
                  To {m.to} · {timeAgo(Date.parse(m.created_at))}
                </p>
                {m.last_error && m.status !== "delivered" && (
                  <p className="mt-1 break-words text-rose-800 dark:text-rose-200" data-testid="mail-error">
                    {m.status === "failed" ? "Not sent: " : `Attempt ${m.attempt_count} failed, trying again: `}
                    {m.last_error}
                  </p>
                )}
              </div>
              <span className={`rounded-full px-2.5 py-0.5 text-xs font-semibold ${STATUS[m.status].cls}`} data-testid="mail-status">
                {STATUS[m.status].label}
              </span>
            </div>
          ))}
        </Card>
      )}
    </section>
  );
}
