"""monai_angio.networks (under construction)."""

__all__: list = []
