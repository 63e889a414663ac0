import { describe, expect, it } from "vitest";
import { formValues, initialForm, type ScriptParam } from "./form";

const params: ScriptParam[] = [
  { name: "Target", type: "hostname", required: true },
  { name: "Port", type: "int", default: 443 },
  { name: "Fix", type: "bool", default: false },
  { name: "Note", type: "string" },
];

describe("script form values", () => {
  it("starts from the defaults", () => {
    expect(initialForm(params)).toEqual({ Target: "", Port: "443", Fix: false, Note: "" });
  });
  it("leaves empty text out so the script's defaults apply, and keeps switches as booleans", () => {
    expect(formValues(params, { Target: "dc01", Port: "", Fix: true, Note: "  " })).toEqual({ Target: "dc01", Fix: true });
  });
});
