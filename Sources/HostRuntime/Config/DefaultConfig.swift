/// The configuration `tokenhub` uses when no config file is given or found: one demo echo
/// model behind DirectDispatch. It is the repository's `config.yaml`, word for word (a test
/// checks that the two never drift apart).
enum DefaultConfig {
    static let yaml = #"""
# TokenHub configuration. This file is also compiled into the binary as the embedded default
# (Sources/HostRuntime/Config/DefaultConfig.swift; a test keeps the two identical), so
# `tokenhub serve` works on a fresh machine with no file at all.
#
# THE ONE MODEL BELOW IS A DEMO: the `echo` provider answers with your prompt and calls no
# network. Replace it with real providers (see README, "Providers") before sending real traffic.
#
# ${VAR} expands from the environment (an error when unset); ${VAR:-default} falls back.
# Environment overrides: TOKENHUB_LISTEN_ADDR, TOKENHUB_ADMIN_TOKEN, TOKENHUB_PLUGIN_DIR,
# TOKENHUB_TEMPORAL_ENABLED / _HOST / _NAMESPACE / _TASK_QUEUE.

server:
  listen: 127.0.0.1:8080
  admin_token: ${TOKENHUB_ADMIN_TOKEN:-}
  body_limit_bytes: 10485760
  require_api_key: false

plugins:
  dir: ~              # ~ = the directory that holds the tokenhub executable

dispatch:
  # Ordered: the first dispatcher that accepts a request serves it; one that answers
  # "unavailable" passes it to the next.
  chain:
    - DirectDispatch

# Keys, the registry, request logs, rewards and time series live in the store. The default is
# a SQLite file under TOKENHUB_DATA_DIR (default ./tokenhub-data, created on first start).
# PostgreSQL instead, for several instances sharing one state:
#   store: {plugin: PostgresStore, config: {url: "postgres://tokenhub@db:5432/tokenhub", password_env: PGPASSWORD}}
store:
  plugin: SQLiteStore
  config:
    path: ${TOKENHUB_DATA_DIR:-./tokenhub-data}/tokenhub.db
    create_directory: true

# GET /metrics in Prometheus text format.
telemetry:
  - PrometheusTelemetry

providers:
  - id: echo
    type: echo

models:
  - id: echo-1
    provider: echo
    weight: 5
    max_context_tokens: 32768
    input_price_per_1k: 0
    output_price_per_1k: 0

routing:
  mode: normal
  max_budget_usd: 0.05
  max_latency_ms: 20000
  min_weight: 0

temporal:
  enabled: false
  host: localhost:7233
  namespace: tokenhub
  task_queue: tokenhub-tasks
"""#
}
