export * from './job.entity.js';
export * from './job.migration.js';
export * from './job-kind.js';
export * from './job-progress.js';
export * from './job-progress-feed.js';
export * from './job-queue.js';
export * from './job-worker.js';
export * from './progress-throttle.js';
import './job-status.graphql.js';
