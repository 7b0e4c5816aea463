export * from './event-test-services.js';
