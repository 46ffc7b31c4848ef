// Groundwork's GraphQL IDE: GraphiQL against this server's /graphql. Sign in over REST (POST /api/v1/auth/login)
// and put {"Authorization": "Bearer <accessToken>"} in the Headers tab; an X-API-Key header works too.
// Subscriptions run over a WebSocket (graphql-transport-ws) to the same path, with those headers as the
// connection_init payload.
(function () {
  var httpFetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql' });
  var wsUrl = window.location.origin.replace(/^http/, 'ws') + '/graphql';

  // The type of the operation that will run: the one named operationName, or the only/first one.
  function operationType(query, operationName) {
    var found = [];
    var pattern = /(^|[\s}])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g;
    var match;
    while ((match = pattern.exec(query)) !== null) {
      found.push({ type: match[2], name: match[3] });
    }
    var chosen = found.filter(function (o) { return operationName && o.name === operationName; })[0] || found[0];
    return chosen ? chosen.type : 'query';
  }

  function fetcher(params, options) {
    if (operationType(params.query || '', params.operationName) !== 'subscription') {
      return httpFetcher(params, options);
    }
    // One connection per subscription, authenticated with the Headers tab as it is now.
    var client = graphqlWs.createClient({ url: wsUrl, connectionParams: (options && options.headers) || {}, retryAttempts: 0 });
    var iterator = client.iterate({ query: params.query, variables: params.variables, operationName: params.operationName });
    var finish = iterator.return ? iterator.return.bind(iterator) : null;
    iterator.return = function () {
      client.dispose();
      return finish ? finish() : Promise.resolve({ done: true, value: undefined });
    };
    return iterator;
  }

  var defaultQuery = [
    '# Published posts are public. For the rest, sign in (POST /api/v1/auth/login)',
    '# and add {"Authorization": "Bearer <accessToken>"} under Headers.',
    '# Subscriptions work too, e.g. subscription { orderUpdated { id status total } }',
    '',
    'query PublishedPosts {',
    '  posts(published: true) {',
    '    id',
    '    title',
    '    author { name }',
    '    createdAt',
    '  }',
    '}',
    '',
  ].join('\n');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: 'headers',
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }));
})();
