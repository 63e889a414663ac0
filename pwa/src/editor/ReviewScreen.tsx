// The reviewer's view of a publish review: what the draft changes against the published
// version, step by step with comments on each step, and Approve / Request changes. The
// author sees the same page, with the comments, and may withdraw the request.
import { useCallback, useEffect, useMemo, useState } from "react";
import { useSignIn } from "../data";
import { queryParam } from "../router";
import { Button, Card, ErrorBox, inputClass, Link, Loading } from "../ui/kit";
import { treesApi, type PublishingRules, type Review, type ReviewComment } from "./api";
import { diffTrees, type Tree } from "./diff";
import { DiffList } from "./DiffView";
import type { TreeDoc } from "./model";
import { commentsOn, STATUS_TEXT } from "./reviews";
import { useNames } from "./useNames";

const EMPTY: Tree = { nodes: {} };

function Comments({ items, name }: { items: ReviewComment[]; name: (id: string) => string }) {
  if (!items.length) return null;
  return (
    <ul className="mt-2 space-y-1.5" data-testid="review-comments">
      {items.map((c) => (
        <li key={c.id} className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:bg-amber-950/40 dark:text-amber-100" data-testid="review-comment">
          <span className="font-semibold">{name(c.by)}</span>: <span className="whitespace-pre-wrap">{c.body}</span>
        </li>
      ))}
    </ul>
  );
}

/** A comment box that opens on demand; `label` names what is commented on. */
function CommentForm({ label, onSend }: { label: string; onSend: (body: string) => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  if (!open)
    return (
      <button type="button" className="mt-1.5 text-xs font-semibold text-indigo-700 hover:underline dark:text-indigo-300" onClick={() => setOpen(true)}>
        Comment on {label}
      </button>
    );
  return (
    <div className="mt-2 space-y-2">
      <textarea aria-label={`Comment on ${label}`} rows={2} className={inputClass} value={body} onChange={(e) => setBody(e.target.value)} />
      <div className="flex gap-2">
        <Button
          className="!min-h-9 !text-sm"
          tone="primary"
          busy={busy}
          disabled={!body.trim()}
          onClick={async () => {
            setBusy(true);
            try {
              await onSend(body.trim());
              setBody("");
              setOpen(false);
            } finally {
              setBusy(false);
            }
          }}
        >
          Add comment
        </Button>
        <Button className="!min-h-9 !text-sm" onClick={() => setOpen(false)}>
          Cancel
        </Button>
      </div>
    </div>
  );
}

export default function ReviewScreen({ treeId }: { treeId: string }) {
  const signin = useSignIn();
  const me = signin?.account.user.id || "";
  const name = useNames();
  const [reviews, setReviews] = useState<Review[] | null>(null);
  const [draft, setDraft] = useState<TreeDoc | null>(null);
  const [base, setBase] = useState<Tree | null>(null);
  const [rules, setRules] = useState<PublishingRules | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [changes, setChanges] = useState("");
  const [busy, setBusy] = useState<"approve" | "reject" | "withdraw" | null>(null);
  const wanted = queryParam("id");

  const load = useCallback(async () => {
    try {
      const [r, d, p] = await Promise.all([treesApi.reviews(treeId), treesApi.get(treeId), treesApi.publishing()]);
      setReviews(r.items);
      setDraft(d);
      setRules(p);
      const shown = r.items.find((x) => x.id === wanted) || r.items[0];
      setBase(shown?.base_version ? (await treesApi.version(treeId, shown.base_version)).tree : EMPTY);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [treeId, wanted]);
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- load() sets state only after its first await
    void load();
  }, [load]);

  const review = reviews ? reviews.find((x) => x.id === wanted) || reviews[0] || null : null;
  const diff = useMemo(() => (draft && base ? diffTrees(base, draft) : null), [draft, base]);

  if (error) return <ErrorBox onRetry={() => (setError(null), void load())}>{error}</ErrorBox>;
  if (!reviews || !draft || !rules) return <Loading />;
  const title = String(draft.title || treeId);
  const back = (
    <Link to={`/editor/${encodeURIComponent(treeId)}`} className="text-sm font-semibold text-indigo-700 dark:text-indigo-300">
      ← Back to the editor
    </Link>
  );
  if (!review)
    return (
      <div className="space-y-4">
        {back}
        <p className="text-sm text-slate-600 dark:text-slate-400">Nobody has requested a review of “{title}” yet.</p>
      </div>
    );

  const current = review.rev === draft._rev;
  const barred = review.barred_approvers.includes(me);
  const canDecide = rules.you_review && review.status === "open";
  const act = async (what: "approve" | "reject" | "withdraw") => {
    setBusy(what);
    setActionError(null);
    try {
      if (what === "withdraw") await treesApi.withdrawReview(treeId, review.id);
      else await treesApi.decideReview(treeId, review.id, what === "approve", what === "reject" ? changes.trim() : "");
      setChanges("");
      await load();
    } catch (e) {
      setActionError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };
  const comment = (nodeId: string | null) => async (body: string) => {
    setActionError(null);
    try {
      await treesApi.commentReview(treeId, review.id, nodeId, body);
      await load();
    } catch (e) {
      setActionError(e instanceof Error ? e.message : String(e));
      throw e;
    }
  };
  const nodeExtra = (id: string) => (
    <div data-testid={`node-comments-${id}`}>
      <Comments items={commentsOn(review, id)} name={name} />
      {review.status !== "withdrawn" && review.status !== "superseded" && <CommentForm label="this step" onSend={comment(id)} />}
    </div>
  );

  return (
    <div className="space-y-5" data-testid="review-screen">
      <div>
        {back}
        <h1 className="mt-1 text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Review of “{title}”</h1>
      </div>
      <Card className="space-y-2 p-4">
        <p className="flex flex-wrap items-center gap-2 text-sm">
          <span className="rounded-full bg-slate-100 px-2.5 py-0.5 font-semibold dark:bg-slate-800" data-testid="review-status" data-status={review.status}>
            {STATUS_TEXT[review.status]}
          </span>
          <span className="text-slate-600 dark:text-slate-400">
            Requested by {name(review.requested_by)} · {new Date(review.requested_at).toLocaleString()} · compared with {review.base_version ? `version ${review.base_version}` : "nothing published yet"}
          </span>
        </p>
        {review.note && <p className="text-sm whitespace-pre-wrap text-slate-800 dark:text-slate-200">{review.note}</p>}
        {reviews[0] && reviews[0].id !== review.id && (
          <p className="rounded-lg bg-indigo-50 p-2 text-sm text-indigo-900 dark:bg-indigo-950 dark:text-indigo-100" role="status">
            This is an earlier review.{" "}
            <Link to={`/editor/${encodeURIComponent(treeId)}/review?id=${encodeURIComponent(reviews[0].id)}`} className="font-semibold underline" data-testid="newer-review">
              Open the newest one ({STATUS_TEXT[reviews[0].status].toLowerCase()})
            </Link>
          </p>
        )}
        {!current && (
          <p className="rounded-lg bg-amber-50 p-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100" role="status">
            The draft changed after this review was requested: below is the draft as it is now. {review.status === "approved" ? "The approval no longer counts; " : ""}the author requests a new review to publish it.
          </p>
        )}
        {review.decided_by && (
          <p className="text-sm" data-testid="review-decision">
            <b>{review.status === "changes_requested" ? "Changes requested" : "Approved"}</b> by {name(review.decided_by)}
            {review.decision_comment ? `: ${review.decision_comment}` : "."}
          </p>
        )}
        {actionError && <ErrorBox title="Not done">{actionError}</ErrorBox>}
        {canDecide && (
          <div className="space-y-2 border-t border-slate-100 pt-3 dark:border-slate-800">
            {barred ? (
              <p className="text-sm text-slate-600 dark:text-slate-400">You edited this draft, so someone else approves it; you can still comment or request changes.</p>
            ) : null}
            <label htmlFor="review-changes" className="block text-sm font-semibold">
              What should change? <span className="font-normal text-slate-500">(needed to request changes)</span>
            </label>
            <textarea id="review-changes" rows={2} className={inputClass} value={changes} onChange={(e) => setChanges(e.target.value)} />
            <div className="flex flex-wrap gap-2">
              <Button tone="primary" busy={busy === "approve"} disabled={barred || !current} onClick={() => void act("approve")} data-testid="review-approve">
                Approve
              </Button>
              <Button tone="danger" busy={busy === "reject"} disabled={!changes.trim()} onClick={() => void act("reject")} data-testid="review-reject">
                Request changes
              </Button>
            </div>
          </div>
        )}
        {review.requested_by === me && ["open", "approved", "changes_requested"].includes(review.status) && (
          <Button className="!min-h-9 !text-sm" busy={busy === "withdraw"} onClick={() => void act("withdraw")}>
            Withdraw the request
          </Button>
        )}
      </Card>
      <Card className="p-4">
        <h2 className="font-semibold">Comments on the whole draft</h2>
        <Comments items={commentsOn(review, null)} name={name} />
        {review.status !== "withdrawn" && review.status !== "superseded" && <CommentForm label="the whole draft" onSend={comment(null)} />}
      </Card>
      {diff ? <DiffList diff={diff} nodeExtra={nodeExtra} /> : <Loading />}
    </div>
  );
}
