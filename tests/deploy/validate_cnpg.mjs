// Validates CloudNativePG objects (a JSON array on stdin) against the CRD schemas that
// @kubernetes-models/cloudnative-pg compiles from the operator's CRDs; prints one JSON report.
import * as cnpg from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));

const report = input.map((object) => {
  const Model = cnpg[object.kind];
  if (object.apiVersion !== "postgresql.cnpg.io/v1" || Model === undefined) {
    return { kind: object.kind, error: `no schema for ${object.apiVersion} ${object.kind}` };
  }
  try {
    new Model(object).validate();
    return { kind: object.kind, error: null };
  } catch (error) {
    return { kind: object.kind, error: String(error.message ?? error) };
  }
});
process.stdout.write(JSON.stringify(report));
