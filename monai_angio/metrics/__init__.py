"""monai_angio.metrics (under construction)."""

__all__: list = []
