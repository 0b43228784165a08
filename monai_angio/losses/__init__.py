"""monai_angio.losses (under construction)."""

__all__: list = []
