/**
 * The PostgreSQL notification channel of registry changes. Every transaction that records
 * registry events sends `NOTIFY mlpipe_registry_events, '<model_id>'` before it commits;
 * PostgreSQL delivers it at commit (never for a rolled-back transaction) to every listening
 * replica, whose watch hub then wakes the watchers of that model.
 */
export const registryEventsChannel = "mlpipe_registry_events";
