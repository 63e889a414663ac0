// Runs design_docs/couchdb/branchline-validate/validate_doc_update.js the way CouchDB does
// (its source evaluated as one function) over a JSON list of [newDoc, oldDoc] pairs read from
// stdin, and answers the list of refusals: null where the document passes, else the thrown
// `forbidden` text. Used by tests/sessions/test_document_schema.py.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const source = readFileSync(
  path.join(here, "..", "..", "design_docs", "couchdb", "branchline-validate", "validate_doc_update.js"), "utf8");
const validate = (0, eval)(`(${source})`);
const user = { name: "branchline", roles: ["_admin"], db: "t_abc123_sessions" };

const pairs = JSON.parse(readFileSync(0, "utf8"));
const verdicts = pairs.map(([doc, old]) => {
  try {
    validate(doc, old, user, {});
    return null;
  } catch (e) {
    return e && typeof e.forbidden === "string" ? e.forbidden : `threw ${JSON.stringify(e)}`;
  }
});
process.stdout.write(JSON.stringify(verdicts));
