"""Explore: score use-case candidates, place them on the priority matrix, select 1–2.

``candidates`` reads the candidates file, ``rules`` holds the scoring rules (shipped as
``defaults.yaml``), ``scoring`` ranks, ``matrix`` draws the impact × feasibility
matrix as SVG, and ``selection`` registers the chosen use cases with a signed record
of why they were chosen.
"""
