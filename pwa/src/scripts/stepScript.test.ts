import { describe, expect, it } from "vitest";
import { fillParameters, renderKey, staleReason, stepMarker } from "./stepScript";

const step = (event_id: string) => ({ event_id }) as never;

describe("fillParameters", () => {
  it("fills inputs and client fields and leaves empty values to the defaults", () => {
    const ref = { id: "script:x", parameters: { Computer: "{{input.vda_name}}", Domain: "{{client.domain}}", Port: "389", Note: "" } };
    expect(fillParameters(ref, { vda_name: "CTX-07" }, { domain: "contoso.local" })).toEqual({ values: { Computer: "CTX-07", Domain: "contoso.local", Port: "389" }, missing: [] });
  });
  it("names the parameters still waiting for a value", () => {
    expect(fillParameters({ id: "script:x", parameters: { Computer: "{{input.vda_name}}" } }, {}, {}).missing).toEqual(["Computer"]);
  });
});

describe("staleReason", () => {
  const state = { status: "in_progress", current_node: "service", path: [step("A"), step("B")] } as never;
  it("accepts the step the run was asked at", () => {
    expect(stepMarker(state)).toBe("B");
    expect(staleReason(state, "service", "B")).toBeNull();
  });
  it("refuses once the session moved on, came back by another way, or ended", () => {
    expect(staleReason({ ...(state as object), current_node: "fixed" } as never, "service", "B")).toMatch(/moved on/);
    expect(staleReason({ ...(state as object), path: [step("A"), step("C")] } as never, "service", "B")).toMatch(/moved on/);
    expect(staleReason({ ...(state as object), status: "completed" } as never, "service", "B")).toMatch(/completed/);
    expect(stepMarker({ path: [] })).toBe("start");
  });
  it("keys a rendering by script and values, whatever their order", () => {
    expect(renderKey("script:x", { b: "2", a: "1" })).toBe(renderKey("script:x", { a: "1", b: "2" }));
  });
});
