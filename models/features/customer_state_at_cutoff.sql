{#- Open orders and tickets at the run's cutoff, for the tags whose catalog row says evaluated_at = cutoff
    (awaiting payment, complaint open, ...): the nightly run at 02:00 sees the payment made at 01:00.
    Their other features stay those of customer_features (macros/tags/features_at.sql). -#}
{{ config(order_by='customer_id') }}

{{ customer_state(cutoff()) }}
