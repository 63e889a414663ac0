import { describe, expect, it } from "vitest";
import { psaLabel, pushBody, safeUrl, ticketNumber } from "./psa";

describe("psa", () => {
  it("reads a ticket number the way the server does", () => {
    expect(ticketNumber("#48213")).toBe(48213);
    expect(ticketNumber(" 7 ")).toBe(7);
    expect(ticketNumber("T20261126.0042")).toBeNull();
    expect(ticketNumber(null)).toBeNull();
  });

  it("makes the push request for a new ticket or a ticket number", () => {
    expect(pushBody({ kind: "create" }, true)).toEqual({ body: { system: "connectwise", create_ticket: true, time_entry: true } });
    expect(pushBody({ kind: "attach", ticket: "#12" }, false)).toEqual({ body: { system: "connectwise", ticket_id: 12, time_entry: false } });
    expect(pushBody({ kind: "attach", ticket: "abc" }, true)).toHaveProperty("error");
  });

  it("labels the ticket and follows only web links", () => {
    expect(psaLabel({ system: "connectwise", ticket_id: 5, ticket_url: "", pushed_at: "", status: "New" })).toBe("ConnectWise #5 · New");
    expect(safeUrl("javascript:alert(1)")).toBeNull();
    expect(safeUrl("https://na.myconnectwise.net/x")).toBe("https://na.myconnectwise.net/x");
  });
});
