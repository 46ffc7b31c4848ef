// Groundwork's GraphQL IDE: GraphiQL against this server's /graphql. Sign in over REST (POST /api/v1/auth/login)
// and put {"Authorization": "Bearer <accessToken>"} in the Headers tab; an X-API-Key header works too.
(function () {
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql' });
  var defaultQuery = [
    '# Published posts are public. For the rest, sign in (POST /api/v1/auth/login)',
    '# and add {"Authorization": "Bearer <accessToken>"} under Headers.',
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
