import { describe, expect, it } from "vitest";
import type { Review } from "./api";
import { commentsOn, liveReview, reviewBadge } from "./reviews";

function review(over: Partial<Review>): Review {
  return {
    id: "R1",
    tree_id: "tree:t",
    rev: "2-a",
    current: true,
    base_version: 1,
    note: "",
    status: "open",
    requested_by: "u1",
    requested_at: "2026-12-04T03:00:00Z",
    last_editor: "u1",
    barred_approvers: ["u1"],
    decided_by: null,
    decided_at: null,
    decision_comment: null,
    comments: [],
    published_version: null,
    ...over,
  };
}

describe("publish review badge", () => {
  it("says an approval of an older revision no longer counts", () => {
    expect(reviewBadge(review({ status: "approved" }), "2-a", true)).toEqual({ label: "Approved", tone: "good" });
    expect(reviewBadge(review({ status: "approved" }), "3-b", true)?.label).toBe("Approval outdated: draft changed");
  });
  it("asks for a review only when the workspace requires one", () => {
    expect(reviewBadge(null, "1-a", true)?.label).toBe("Needs review to publish");
    expect(reviewBadge(null, "1-a", false)).toBeNull();
  });
  it("shows changes requested whatever the revision", () => {
    expect(reviewBadge(review({ status: "changes_requested" }), "9-z", false)?.tone).toBe("bad");
  });
});

describe("live review and comments", () => {
  it("ignores a withdrawn or published newest review", () => {
    expect(liveReview([review({ status: "withdrawn" }), review({ id: "R0" })])).toBeNull();
    expect(liveReview([review({ status: "published" })])).toBeNull();
    expect(liveReview([review({ id: "R2" })])?.id).toBe("R2");
  });
  it("keeps a step's comments apart from the whole draft's", () => {
    const r = review({
      comments: [
        { id: "c1", node_id: "scope", body: "Clearer?", by: "u2", at: "t1" },
        { id: "c2", node_id: null, body: "Nice", by: "u2", at: "t2" },
      ],
    });
    expect(commentsOn(r, "scope").map((c) => c.id)).toEqual(["c1"]);
    expect(commentsOn(r, null).map((c) => c.id)).toEqual(["c2"]);
    expect(commentsOn(null, "scope")).toEqual([]);
  });
});
