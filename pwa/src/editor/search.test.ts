import { describe, expect, it } from "vitest";
import type { TreeNode } from "./model";
import { findSteps } from "./search";

const nodes: Record<string, TreeNode> = {
  scope: { type: "question", title: "Is only one VDA affected?", body: "Check Studio." },
  "dns-check": { type: "action", title: "Check the DNS records", commands: [{ language: "powershell", text: "Resolve-DnsName vda01" }] },
  dns: { type: "action", title: "Flush the resolver cache", next: { done: "scope" } },
  firewall: { type: "choice", title: "Which port is blocked?", options: [{ id: "p80", label: "Port 80 (Café proxy)", next: "dns" }] },
};

const ids = (q: string) => findSteps(nodes, q).map((m) => m.id);

describe("findSteps", () => {
  it("finds nothing for an empty query", () => {
    expect(findSteps(nodes, "   ")).toEqual([]);
  });
  it("puts an exact id first, then titles, then ids, then other text", () => {
    expect(ids("dns")).toEqual(["dns", "dns-check"]);
    expect(findSteps(nodes, "dns")[0].where).toBe("id");
    expect(ids("check")).toEqual(["dns-check", "scope"]);
  });
  it("needs every word, in any order and case", () => {
    expect(ids("records DNS")).toEqual(["dns-check"]);
    expect(ids("dns studio")).toEqual([]);
  });
  it("searches bodies, commands and answer labels, ignoring accents", () => {
    expect(findSteps(nodes, "resolve-dnsname")).toEqual([{ id: "dns-check", title: "Check the DNS records", where: "text" }]);
    expect(ids("cafe")).toEqual(["firewall"]);
  });
  it("does not match on where answers lead", () => {
    expect(ids("scope")).toEqual(["scope"]);
  });
  it("stops at the limit", () => {
    const many: Record<string, TreeNode> = {};
    for (let i = 0; i < 20; i++) many[`n${i}`] = { type: "action", title: `Step ${i}` };
    expect(findSteps(many, "step", 5).map((m) => m.id)).toEqual(["n0", "n1", "n2", "n3", "n4"]);
  });
});
