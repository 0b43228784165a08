"""monai_angio.transforms (under construction)."""

__all__: list = []
