// Runs the GraphQL IDE's own fetcher (src/Groundwork/Platform/GraphQLServer/Ide/ide.js) outside a browser: the
// page's globals are stubbed, graphql-ws is the real client. Subscribes the way the IDE does when someone runs a
// subscription with {"Authorization": "Bearer <token>"} in the Headers tab, and prints each result as a JSON line.
//   node ide-fetcher.cjs <ide.js path> <http origin> <bearer token> <subscription query>
const fs = require('node:fs');
const vm = require('node:vm');
const WebSocket = require('ws');
const graphqlWs = require('graphql-ws');

const [idePath, origin, token, query] = process.argv.slice(2);
let fetcher;
const context = {
  window: { location: { origin } },
  document: { getElementById: () => ({}) },
  GraphiQL: Object.assign(function GraphiQL() {}, { createFetcher: () => () => { throw new Error('HTTP fetcher used for a subscription'); } }),
  React: { createElement: (_component, props) => { fetcher = props.fetcher; return null; } },
  ReactDOM: { createRoot: () => ({ render: () => {} }) },
  graphqlWs: { createClient: (options) => graphqlWs.createClient({ ...options, webSocketImpl: WebSocket }) },
  Promise,
};
vm.runInNewContext(fs.readFileSync(idePath, 'utf8'), context);

(async () => {
  const iterator = fetcher({ query }, { headers: { Authorization: `Bearer ${token}` } });
  process.stdout.write(JSON.stringify({ connected: true }) + '\n');
  for await (const result of iterator) {
    process.stdout.write(JSON.stringify({ next: result }) + '\n');
  }
})().catch((error) => {
  process.stdout.write(JSON.stringify({ error: String(error && error.message ? error.message : JSON.stringify(error)) }) + '\n');
  process.exit(0);
});
