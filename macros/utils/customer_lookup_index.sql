{#- A post-hook of tag_snapshots: a bloom filter index on customer_id, so one customer's tags (the console's API,
    BI's look-up of a customer) read the granules that hold that customer instead of every granule of the run.
    The table is sorted by tag, then value, then customer, so a customer's rows are spread over one granule per tag;
    the primary key cannot find them and a min/max index cannot either (number tags such as value_score span every
    customer in each granule). Measured at 1,000,000 customers: a look-up read straight from the run 60.8 -> 12.8 ms,
    writing the run's 11.5 M rows 2.3-2.5 -> 2.5-2.7 s (BENCHMARKS.md). Added after the table is made, and to a table made before
    it (parts written before keep no index until merged, and are read as before); on a cluster to the shard table of
    the server dbt runs on (the embedded two_shards' other server has none: its rows are read as before). -#}
{% macro customer_lookup_index() -%}
    {%- if execute -%}
        {%- set shard_table = this.incorporate(path={"identifier": this.identifier ~ "_local"}) if target.cluster else this -%}
        alter table {{ shard_table }} {{ on_cluster_clause(shard_table) }}
            add index if not exists customer_lookup customer_id type bloom_filter(0.01) granularity 1
    {%- endif -%}
{%- endmacro %}
