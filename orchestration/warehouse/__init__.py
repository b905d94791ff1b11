"""The warehouse: the embedded ClickHouse server, clients, the raw-data contract and loader, the demo data, the refresh lock, shards and BI access."""
