// A graphql-transport-ws client for the test suite, using the npm graphql-ws library (what browsers and
// Node apps use), so the server is checked against the protocol's reference client, not only our own reading.
//
//   node subscribe.mjs <ws-url> <bearer-token|-> <query> [variables-json]
//
// Prints one JSON line per event: {"connected":true}, {"next":<payload>}, {"error":<errors>}, {"complete":true},
// {"closed":<code>,"reason":"..."}; exits after error, complete or close.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, query, variables] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token && token !== '-' ? { Authorization: `Bearer ${token}` } : {},
  retryAttempts: 0,
  lazy: false,
  on: {
    connected: () => out({ connected: true }),
    closed: (event) => {
      out({ closed: event?.code ?? null, reason: event?.reason ?? '' });
      process.exit(0);
    },
  },
});

client.subscribe(
  { query, variables: variables ? JSON.parse(variables) : undefined },
  {
    next: (value) => out({ next: value }),
    error: (error) => {
      out({ error: Array.isArray(error) ? error : { message: String(error?.message ?? error), code: error?.code ?? null } });
      process.exit(0);
    },
    complete: () => {
      out({ complete: true });
      process.exit(0);
    },
  },
);
