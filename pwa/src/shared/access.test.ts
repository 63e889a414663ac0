import { describe, expect, it } from "vitest";
import { abandonFields, checkDetails, MAX_FIELD, sameMembers, sessionRights, withMember } from "./access";

const header = { owner_id: "owner1", shared_with: ["helper1"] };

describe("sessionRights follows the sync policy", () => {
  it("lets the owner write and share", () => {
    expect(sessionRights(header, { id: "owner1", role: "engineer" })).toEqual({ write: true, share: true, readOnlyReason: null });
  });

  it("lets a teammate in shared_with write but not change the sharing", () => {
    const r = sessionRights(header, { id: "helper1", role: "engineer" });
    expect(r.write).toBe(true);
    expect(r.share).toBe(false);
  });

  it("lets admins and tenant owners do everything on anyone's session", () => {
    for (const role of ["admin", "owner"]) {
      expect(sessionRights(header, { id: "boss", role })).toMatchObject({ write: true, share: true });
    }
  });

  it("keeps viewers read-only, even on their own or a shared session", () => {
    for (const id of ["owner1", "helper1"]) {
      const r = sessionRights(header, { id, role: "viewer" });
      expect(r).toMatchObject({ write: false, share: false });
      expect(r.readOnlyReason).toMatch(/Viewers/);
    }
  });

  it("refuses someone the session is not shared with", () => {
    const r = sessionRights(header, { id: "stranger", role: "author" });
    expect(r).toMatchObject({ write: false, share: false });
    expect(r.readOnlyReason).toMatch(/not shared/);
  });

  it("treats a missing shared_with as nobody", () => {
    expect(sessionRights({ owner_id: "o" }, { id: "x", role: "engineer" }).write).toBe(false);
    expect(sessionRights({ owner_id: "o", shared_with: null }, { id: "o", role: "engineer" }).share).toBe(true);
  });
});

describe("checkDetails", () => {
  it("trims and turns an empty ticket into null", () => {
    expect(checkDetails("  ", "  Printer down ")).toEqual({ ok: true, changes: { ticket: null, title: "Printer down" } });
    expect(checkDetails(" T-1 ", "x")).toEqual({ ok: true, changes: { ticket: "T-1", title: "x" } });
  });

  it("refuses an empty title with a message that says what to do", () => {
    const r = checkDetails("T-1", "   ");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe("title");
      expect(r.error).toMatch(/needs a title/);
    }
  });

  it("refuses fields longer than the server accepts", () => {
    const long = "x".repeat(MAX_FIELD + 1);
    expect(checkDetails("", long)).toMatchObject({ ok: false, field: "title" });
    expect(checkDetails(long, "ok")).toMatchObject({ ok: false, field: "ticket" });
    expect(checkDetails("", "x".repeat(MAX_FIELD)).ok).toBe(true);
  });
});

describe("sharing lists", () => {
  it("adds once and removes every copy", () => {
    expect(withMember(["a"], "b", true)).toEqual(["a", "b"]);
    expect(withMember(["a", "b"], "b", true)).toEqual(["a", "b"]);
    expect(withMember(["a", "b", "a"], "a", false)).toEqual(["b"]);
    expect(withMember([], "a", false)).toEqual([]);
  });

  it("compares as sets", () => {
    expect(sameMembers(["a", "b"], ["b", "a"])).toBe(true);
    expect(sameMembers(["a"], ["a", "b"])).toBe(false);
    expect(sameMembers([], [])).toBe(true);
  });
});

describe("abandonFields", () => {
  it("carries a trimmed reason, or none at all", () => {
    expect(abandonFields("  Customer fixed it themselves ")).toEqual({ reason: "Customer fixed it themselves" });
    expect(abandonFields("   ")).toEqual({});
  });
});
