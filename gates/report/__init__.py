"""The auditor's report: the signed ledger as HTML pages, written to disk or served live.

``views`` turns a session into plain page data, ``charts`` draws inline SVG from it,
``render`` fills the templates, ``site`` writes a static site. The live server
(``gates.ui``) serves the same pages.
"""
