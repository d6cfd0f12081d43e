export { Dataplane, DataplaneError } from './dataplane/dataplane';
export type { DataplaneOptions, Snapshot, LcoreCounters, PortCounters } from './dataplane/dataplane';
export type { Binding, BindingKey, Update, UpdateSummary } from './dataplane/updates';
export { parseIPv4, formatIPv4, parseMac, formatMac } from './dataplane/address';
export { loadConfig, ConfigError } from './config/load';
