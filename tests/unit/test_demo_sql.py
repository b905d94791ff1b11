import datetime as dt

from orchestration.warehouse import demo, demo_sql


def test_same_seed_gives_the_same_sql_and_another_seed_another():
    day = dt.date(2026, 11, 23)
    first = [s.sql for s in demo.steps(demo_sql.DemoSql(7, day), 250_000)]
    again = [s.sql for s in demo.steps(demo_sql.DemoSql(7, day), 250_000)]
    other = [s.sql for s in demo.steps(demo_sql.DemoSql(8, day), 250_000)]
    assert first == again
    assert first != other


def test_big_tables_are_generated_in_chunks_so_progress_moves():
    labels = [s.label for s in demo.steps(demo_sql.DemoSql(1, dt.date(2026, 11, 23)), 250_000)]
    assert "orders (1/3)" in labels and "orders (3/3)" in labels
    assert labels[0] == "products"


def test_category_weights_are_a_distribution():
    assert abs(sum(w for _, w in demo_sql.CATEGORIES) - 1.0) < 1e-9
    assert abs(sum(w for _, w in demo_sql.SOURCE_CHANNELS) - 1.0) < 1e-9
