// Usage: node audit.cjs http://127.0.0.1:PORT/graphql
// Prints one JSON array: every audit's id, name, status (ok | warn | error) and reason.
const { auditServer } = require('graphql-http');

(async () => {
  const url = process.argv[2];
  const results = await auditServer({ url });
  const rows = results.map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason ?? null }));
  process.stdout.write(JSON.stringify(rows) + '\n');
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
