"""What a run shows: figures, the HTML report and console tables."""
