export * from './callers.js';
export * from './graphql-client.js';
export * from './test-environment.js';
export * from './subgraph-test-setup.js';
export * from './subgraph-under-test.js';
