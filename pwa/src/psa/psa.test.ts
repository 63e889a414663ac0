import { describe, expect, it } from "vitest";
import { lookupOrder, parseId, psaLabel, pushBody, safeUrl, ticketNumber, ticketRef } from "./psa";

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

  it("names Autotask tickets and reads the ids typed for Autotask", () => {
    expect(psaLabel({ system: "autotask", ticket_id: 7001, status: "In Progress" } as never)).toBe("Autotask #7001 · In Progress");
    expect(parseId(" 29682833 ", "Queue id")).toEqual({ value: 29682833 });
    expect(parseId("", "Queue id")).toEqual({ value: null });
    expect(parseId("Tier 1", "Queue id")).toEqual({ error: "Queue id must be the number Autotask shows for it (digits only)." });
    expect(parseId("0", "Queue id")).toHaveProperty("error");
  });

  it("sends to an Autotask ticket by its number or id, and reads one from the session's ticket field", () => {
    expect(pushBody({ kind: "attach", ticket: " t20261203.0042 " }, true, "autotask")).toEqual({ body: { system: "autotask", ticket_number: "T20261203.0042", time_entry: true } });
    expect(pushBody({ kind: "attach", ticket: "7001" }, false, "autotask")).toEqual({ body: { system: "autotask", ticket_id: 7001, time_entry: false } });
    expect(pushBody({ kind: "attach", ticket: "Backups" }, true, "autotask")).toEqual({ error: "Enter the Autotask ticket number (e.g. T20261203.0042) or the ticket's id." });
    expect(pushBody({ kind: "attach", ticket: "T20261203.0042" }, true)).toHaveProperty("error");
    expect(ticketRef("autotask", "T20261203.0042")).toBe("T20261203.0042");
    expect(ticketRef("connectwise", "T20261203.0042")).toBeNull();
    expect(ticketRef("connectwise", "#48213")).toBe("48213");
    expect(ticketRef("autotask", "48213")).toBeNull(); // maybe another system's number: never an Autotask id
  });

  it("asks the PSA that can have the ticket a link names, most likely first", () => {
    expect(lookupOrder(["connectwise", "autotask"], "T20261203.0042")).toEqual(["autotask"]);
    expect(lookupOrder(["connectwise"], "T20261203.0042")).toEqual([]);
    expect(lookupOrder(["autotask", "connectwise"], "#48213")).toEqual(["connectwise"]);
    expect(lookupOrder(["autotask"], "48213")).toEqual([]);
    expect(lookupOrder(["connectwise", "autotask"], "printer on floor 3")).toEqual([]);
  });
});
