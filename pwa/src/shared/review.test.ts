import { describe, expect, it } from "vitest";
import { reviewDueOn, reviewInfo } from "./review";

describe("reviewInfo", () => {
  it("shows the newer of the tree's review date and the sidecar's review-done", () => {
    expect(reviewInfo({ reviewed_at: "2026-12-04" }, { reviewed_at: "2026-11-01T10:00:00.000Z" }).reviewedOn).toBe("2026-12-04");
    expect(reviewInfo({ reviewed_at: "2026-12-04" }, { reviewed_at: "2027-01-15T10:00:00.000Z" }).reviewedOn).toBe("2027-01-15");
    expect(reviewInfo({}, null).reviewedOn).toBeNull();
    expect(reviewInfo({ reviewed_at: "someday" }, null).reviewedOn).toBeNull();
  });

  it("keeps only https sources and names an untitled one by its address", () => {
    const info = reviewInfo({ sources: [{ title: "", url: "https://learn.microsoft.com/en-us/x" }, { title: "Old", url: "http://x.test/a" }] }, null);
    expect(info.sources).toEqual([{ title: "https://learn.microsoft.com/en-us/x", url: "https://learn.microsoft.com/en-us/x" }]);
  });
});

describe("reviewDueOn", () => {
  it("counts an interval from the latest publish or review", () => {
    expect(reviewDueOn({ review_every_days: 180 }, { published_at: "2026-12-04T03:00:00.000Z" })).toBe("2027-06-02");
    expect(reviewDueOn({ review_every_days: 30 }, { published_at: "2026-12-04T03:00:00Z", reviewed_at: "2027-01-10T08:00:00Z" })).toBe("2027-02-09");
  });

  it("keeps a fixed date until a later publish or review meets it", () => {
    expect(reviewDueOn({ review_by: "2027-03-01" }, { published_at: "2026-12-04T03:00:00Z" })).toBe("2027-03-01");
    expect(reviewDueOn({ review_by: "2027-03-01" }, { published_at: "2027-03-02T03:00:00Z" })).toBeNull();
  });

  it("says nothing for an unpublished tree or one without its own rule", () => {
    expect(reviewDueOn({ review_every_days: 180 }, null)).toBeNull();
    expect(reviewDueOn({}, { published_at: "2026-12-04T03:00:00Z" })).toBeNull();
  });
});
