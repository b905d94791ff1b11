"""The `model` tag method: predictive tags trained, validated and scored by scikit-learn (model_tags.py)."""
