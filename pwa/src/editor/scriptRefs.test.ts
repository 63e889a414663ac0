import { describe, expect, it } from "vitest";
import { scriptProblems, type LibraryScript } from "./scriptRefs";

// The same cases as tests/trees_api/test_script_steps.py, word for word.
const library: Record<string, LibraryScript> = {
  "script:restart-service": {
    name: "Restart a service",
    parameters: [
      { name: "Computer", type: "hostname", required: true },
      { name: "Service", type: "string", required: true, default: "BrokerAgent" },
      { name: "Password", type: "secret" },
    ],
  },
};
const tree = (script: unknown) => ({ nodes: { scope: { type: "question" }, service: { type: "action", script } } });

describe("scriptProblems", () => {
  it("accepts a mapping of the script's own parameters", () => {
    expect(scriptProblems(tree({ id: "script:restart-service", parameters: { Computer: "{{input.vda_name}}" } }), library)).toEqual([]);
  });
  it("names a script the library does not have", () => {
    const [p] = scriptProblems(tree({ id: "script:not-there", parameters: {} }), library);
    expect(p.code).toBe("unknown_script");
    expect(p.message).toContain('"script:not-there" is not published');
  });
  it("flags unknown, secret and missing parameters as the server does", () => {
    const found = scriptProblems(tree({ id: "script:restart-service", parameters: { Computr: "CTX-07", Password: "hunter2" } }), library).map((p) => [p.code, p.message.split(".")[0]]);
    expect(found).toEqual([
      ["unknown_script_parameter", 'The script "Restart a service" has no parameter "Computr"'],
      ["secret_script_parameter", "Password is a secret: a tree never stores one"],
      ["missing_script_parameter", "The script's required parameter Computer has no value"],
    ]);
  });
});
