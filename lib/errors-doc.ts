/**
 * docs/errors.md is generated from the catalogue in errors.ts so the two never disagree.
 * Regenerate: `npx tsx lib/errors-doc.ts`; lib/errors.test.ts fails when it is stale.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Errors } from "./errors.js";

export const ERRORS_DOC = fileURLToPath(new URL("../docs/errors.md", import.meta.url));

export function renderErrorsDoc(): string {
  const rows = Object.values(Errors)
    .map((e) => `| \`${e.group}\` | \`${e.code}\` | ${e.status} | ${e.message} |`)
    .join("\n");
  return `# Errors

Every error the engine returns has the JSON body \`{ group, code, message, metadata? }\` and the
HTTP status below (over a WebSocket, the same object arrives as \`{ t: "error", id?, error }\`).
Branch on \`group\` and \`code\`; \`message\` is for people and may change.

- A \`UserError\` thrown by an actor arrives as group \`user\` with the actor's own \`code\`,
  \`message\` and \`metadata\` (status 400).
- Any other error thrown by actor code arrives as \`actor\`/\`internal_error\` (500) with a
  correlation id in \`message\` and \`metadata.correlationId\`; the details are only in the
  engine's log, under that id.
- Limit errors carry the limit in \`metadata.limit\`.

Generated from \`lib/errors.ts\` by \`npx tsx lib/errors-doc.ts\`; do not edit by hand.

| group | code | status | meaning |
| --- | --- | --- | --- |
${rows}
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(ERRORS_DOC, renderErrorsDoc());
  process.stdout.write(`wrote ${ERRORS_DOC}\n`);
}
