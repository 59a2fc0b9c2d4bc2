"""Panels: the pure building blocks (text and figures) of one part of the page each."""
