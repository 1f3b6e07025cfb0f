export { comments } from './extension';
export type { CommentsOptions } from './options';
export { INDEX_COLLECTION, NOTIFICATIONS_COLLECTION, THREADS_COLLECTION } from './records';
