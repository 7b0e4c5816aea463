import 'reflect-metadata';

export * from './config.js';
export * from './context.js';
export * from './database.js';
export * from './error-masking.plugin.js';
export * from './errors.js';
export * from './health.js';
export * from './listen.js';
export * from './loaders.js';
export * from './logger.js';
export * from './pagination.js';
export * from './redis.js';
export * from './main.js';
export * from './subgraph-app.js';
export * from './subgraph-schema.js';
export * from './subgraph-server.js';
export * from './validation.js';
export * from './website-url.js';
