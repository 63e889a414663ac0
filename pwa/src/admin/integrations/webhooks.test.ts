import { describe, expect, it } from "vitest";
import { canRetry, deliveryOutcome, fieldOfReason, splitUrl, webhookBadge } from "./webhooks";

describe("splitUrl", () => {
  it("puts the host first and keeps the rest of the address", () => {
    expect(splitUrl("https://hooks.example-msp.com/branchline?x=1")).toEqual({ host: "hooks.example-msp.com", rest: "/branchline?x=1" });
    expect(splitUrl("http://127.0.0.1:8123/hook")).toEqual({ host: "127.0.0.1:8123", rest: "/hook" });
  });
  it("shows a host written in capitals, which URL lowers", () => {
    expect(splitUrl("https://Hooks.Example.com/in")).toEqual({ host: "hooks.example.com", rest: "/in" });
  });
  it("shows what does not parse whole", () => {
    expect(splitUrl("not a url")).toEqual({ host: "not a url", rest: "" });
  });
});

describe("fieldOfReason", () => {
  it("follows the field the server names first", () => {
    expect(fieldOfReason("events must list at least one of: session.started")).toBe("events");
    expect(fieldOfReason("description: String should have at most 500 characters. Fix the request and send it again.")).toBe("description");
    expect(fieldOfReason("url must start with https:// (or http://), not ftp.")).toBe("url");
  });
  it("gives the address checks to the URL", () => {
    expect(fieldOfReason("127.0.0.1 is a loopback address; webhooks go only to public addresses.")).toBe("url");
    expect(fieldOfReason("The host nowhere.invalid could not be resolved; check the URL.")).toBe("url");
  });
});

describe("badges and outcomes", () => {
  it("names the subscription's state", () => {
    expect(webhookBadge({ status: "failing" }).label).toBe("Failing");
    expect(webhookBadge({ status: "disabled" }).label).toBe("Disabled");
  });
  it("offers a retry only to failed or queued deliveries", () => {
    expect(["pending", "sending", "delivered", "failed"].filter((s) => canRetry({ status: s as never }))).toEqual(["pending", "failed"]);
  });
  it("says the status code, or the error when there was no answer", () => {
    expect(deliveryOutcome({ status: "delivered", response: { status_code: 200, body_excerpt: "" }, last_error: null })).toBe("Delivered: HTTP 200");
    expect(deliveryOutcome({ status: "failed", response: { status_code: null, body_excerpt: "" }, last_error: "connection refused" })).toBe("Failed: connection refused");
  });
});
