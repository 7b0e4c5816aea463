export * from './file-test-service.js';
