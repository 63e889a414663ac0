// Publish reviews in the editor, as small pure functions: which review is the draft's live
// one, what its badge says, and the comments on a step. (Not the freshness review, which
// is about a tree's review date.)
import type { Review, ReviewComment } from "./api";

export type BadgeTone = "neutral" | "waiting" | "good" | "bad";

export interface ReviewBadgeInfo {
  label: string;
  tone: BadgeTone;
}

/** The review the editor shows: the newest one, unless it was withdrawn, replaced or published. */
export function liveReview(reviews: Review[]): Review | null {
  const newest = reviews[0];
  return newest && ["open", "approved", "changes_requested"].includes(newest.status) ? newest : null;
}

/** The badge for the draft at revision `rev`: an approval of another revision no longer counts. */
export function reviewBadge(review: Review | null, rev: string, requireApproval: boolean): ReviewBadgeInfo | null {
  if (!review) return requireApproval ? { label: "Needs review to publish", tone: "neutral" } : null;
  const current = review.rev === rev;
  if (review.status === "changes_requested") return { label: "Changes requested", tone: "bad" };
  if (review.status === "approved")
    return current ? { label: "Approved", tone: "good" } : { label: "Approval outdated: draft changed", tone: "bad" };
  return current ? { label: "In review", tone: "waiting" } : { label: "In review (draft changed since)", tone: "waiting" };
}

/** The comments on one step (`nodeId`), or on the whole draft (null), oldest first. */
export function commentsOn(review: Review | null, nodeId: string | null): ReviewComment[] {
  return (review?.comments || []).filter((c) => c.node_id === nodeId);
}

export const STATUS_TEXT: Record<Review["status"], string> = {
  open: "Waiting for a reviewer",
  approved: "Approved",
  changes_requested: "Changes requested",
  withdrawn: "Withdrawn",
  superseded: "Replaced by a newer request",
  published: "Published",
};
