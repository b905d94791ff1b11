from orchestration.warehouse import contract

# The contract every shop system can deliver (issue: raw data contract), by table.
EXPECTED = {
    "customers": {"customer_id": "String", "signup_at": "DateTime", "birth_year": "Nullable(UInt16)"},
    "orders": {"order_id": "String", "customer_id": "String", "ordered_at": "DateTime", "status": "LowCardinality(String)",
               "amount": "Nullable(Decimal(18, 2))", "paid_at": "Nullable(DateTime)", "completed_at": "Nullable(DateTime)"},
    "order_items": {"order_id": "String", "product_id": "String", "quantity": "Int32"},
    "products": {"product_id": "String", "category": "LowCardinality(String)", "list_price": "Decimal(18, 2)"},
    "events": {"customer_id": "String", "event_at": "DateTime", "event_type": "LowCardinality(String)", "campaign_id": "Nullable(String)"},
    "tickets": {"ticket_id": "String", "opened_at": "DateTime", "resolved_at": "Nullable(DateTime)", "kind": "LowCardinality(String)"},
    "consents": {"customer_id": "String", "channel": "LowCardinality(String)", "granted": "Bool", "updated_at": "DateTime"},
    "manual_tag_assignments": {"customer_id": "String", "tag_key": "String", "action": "LowCardinality(String)"},
    "identity_edges": {"id": "String", "id_type": "LowCardinality(String)", "other_id": "String",
                       "other_id_type": "LowCardinality(String)", "seen_at": "DateTime"},
}


def test_contract_has_every_table_with_native_types():
    tables = contract.raw_tables()
    assert set(tables) == set(EXPECTED)
    for name, columns in EXPECTED.items():
        types = {c.name: c.type for c in tables[name].columns}
        for column, expected_type in columns.items():
            assert types[column] == expected_type, (name, column)


def test_loader_columns_are_not_required_from_files():
    orders = contract.raw_tables()["orders"]
    required = [c.name for c in orders.required]
    assert "_load_id" not in required and "_loaded_at" not in required
    assert required[:3] == ["order_id", "customer_id", "ordered_at"]


def test_ddl_creates_a_mergetree_in_raw_with_every_column():
    ddl = contract.raw_tables()["orders"].ddl()
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS raw.orders")
    assert "`amount` Nullable(Decimal(18, 2))" in ddl
    assert "`_loaded_at` DateTime64(3) DEFAULT now64(3)" in ddl
    assert ddl.endswith("ENGINE = MergeTree ORDER BY (customer_id, order_id)")
