/**
 * switchboard: a Finagle-style client stack for Node. The root export gathers the core types;
 * each concern also has its own subpath (`switchboard/naming`, `switchboard/stats`, ...).
 *
 * @example
 * ```ts
 * import { Activity, Status } from 'switchboard'
 * ```
 *
 * @module switchboard
 */
export * from './core/index.js'
export * from './stats/index.js'
