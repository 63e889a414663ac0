import { describe, expect, it } from "vitest";
import { band, dropOffRate, filtersFrom, filtersQuery, percent, rankedPaths, series, shortDuration, sortRows, successRate, type Summary } from "./figures";

const row = (id: string, sessions: number, completed: number, resolved: number, p50: number | null): Summary & { id: string } => ({
  id,
  sessions,
  completed,
  abandoned: sessions - completed,
  in_progress: 0,
  outcomes: { resolved, escalated: completed - resolved, unresolved: 0 },
  duration_ms: { p50, p90: p50 },
});

describe("insights figures", () => {
  it("success is resolved among completed sessions", () => {
    expect(successRate(row("a", 3, 2, 1, 1))).toBe(0.5);
    expect(percent(successRate(row("a", 1, 0, 0, null)))).toBe("–");
    expect(percent(2 / 3)).toBe("67%");
  });

  it("drop-off bands never exceed one and start above zero", () => {
    expect(dropOffRate({ visits: 0, drop_offs: 0 })).toBe(0);
    expect(dropOffRate({ visits: 2, drop_offs: 3 })).toBe(1);
    expect([0, 0.05, 0.1, 0.5].map(band)).toEqual(["none", "low", "mid", "high"]);
  });

  it("fills empty days and switches to weeks past two months", () => {
    const days = [{ day: "2026-12-02", sessions: 3, completed: 2, resolved: 1 }];
    const d = series(days, "2026-12-01", "2026-12-03");
    expect(d.unit).toBe("day");
    expect(d.buckets.map((b) => [b.start, b.sessions])).toEqual([["2026-12-01", 0], ["2026-12-02", 3], ["2026-12-03", 0]]);
    const w = series([...days, { day: "2026-09-01", sessions: 1, completed: 1, resolved: 1 }], "2026-09-01", "2026-12-03");
    expect(w.unit).toBe("week");
    expect(w.buckets[0].start).toBe("2026-08-31"); // the Monday of 1 September 2026
    expect(w.buckets.reduce((a, b) => a + b.sessions, 0)).toBe(4);
    expect(series(days, "2026-12-03", "2026-12-01").buckets).toEqual([]);
  });

  it("sorts with unknown values last", () => {
    const rows = [row("b", 5, 0, 0, null), row("a", 2, 2, 2, 5000), row("c", 9, 4, 1, 9000)];
    const ids = (key: Parameters<typeof sortRows>[1], desc: boolean) => sortRows(rows, key, desc, (r) => r.id).map((r) => r.id);
    expect(ids("sessions", true)).toEqual(["c", "b", "a"]);
    expect(ids("success", true)).toEqual(["a", "c", "b"]);
    expect(ids("p50", false)).toEqual(["a", "c", "b"]);
    expect(ids("name", false)).toEqual(["a", "b", "c"]);
  });

  it("ranks paths with their share of completed sessions", () => {
    const paths = [
      { resolution: "x", nodes: ["s", "x"], count: 1 },
      { resolution: "y", nodes: ["s", "y"], count: 3 },
    ];
    expect(rankedPaths({ paths, completed: 4 })).toEqual([
      { nodes: ["s", "y"], count: 3, share: 0.75 },
      { nodes: ["s", "x"], count: 1, share: 0.25 },
    ]);
  });

  it("formats durations for a table", () => {
    expect([null, 12_000, 185_000, 4_320_000].map(shortDuration)).toEqual(["–", "12 s", "3 min 5 s", "1 h 12 min"]);
  });
});

describe("filters in the address", () => {
  const now = Date.parse("2026-12-03T12:00:00Z");
  it("reads what it names and falls back for the rest", () => {
    expect(filtersFrom("", now)).toEqual({ from: "2026-11-04", to: "2026-12-03", client: "", version: null, compare: null });
    expect(filtersFrom("?from=2026-10-01&to=nope&client=client%3Aacme&version=2&compare=1", now)).toEqual({
      from: "2026-10-01",
      to: "2026-12-03",
      client: "client:acme",
      version: 2,
      compare: 1,
    });
    expect(filtersFrom("?version=0&compare=1", now).compare).toBeNull();
    expect(filtersFrom("?version=2&compare=2", now).compare).toBeNull();
  });
  it("round-trips", () => {
    const f = { from: "2026-10-01", to: "2026-10-31", client: "client:a b", version: 3, compare: 1 };
    expect(filtersFrom(`?${filtersQuery(f)}`, now)).toEqual(f);
    expect(filtersQuery({ ...f, version: null })).toBe("from=2026-10-01&to=2026-10-31&client=client%3Aa+b");
  });
});
