"""Evidence sources: datasets, files and MLflow runs, each read once and bound by digest."""
