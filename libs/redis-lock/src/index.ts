export * from './redis-lock.js';
