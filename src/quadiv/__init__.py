"""quadiv: measure and control the quality-diversity trade-off of ML data and model outputs."""
__version__ = "0.1.0"
