export {
  type Counter,
  type InMemoryStats,
  inMemoryStats,
  nullStats,
  promName,
  type RemovableStats,
  type Stat,
  type StatSummary,
  type StatsReceiver,
} from './stats.js'
