-- Liveness facts the running bot records for `python -m bot health`, one row per key:
--   'gateway_heartbeat': written every BOT_HEARTBEAT_EVERY seconds while the gateway is
--   connected and ready; value: what it saw (latency, guilds, pid), updated_at: ISO-8601 UTC.
CREATE TABLE health (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
