{#- The sampled customers' open orders and tickets at the run's cutoff, recomputed apart from
    customer_state_at_cutoff: what the tags with evaluated_at = cutoff are re-evaluated on
    (accuracy_sample_tags). -#}
{{ config(order_by='customer_id') }}

{{ sample_state_figures(cutoff()) }}
