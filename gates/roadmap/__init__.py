"""The roadmap: the playbook's week-by-week template, planned against what the ledger shows.

``template`` holds the template as data and dates it for one use case, ``tracking``
compares that plan with the verified ledger (slips, decisions due and overdue), and
``gantt`` draws both as inline SVG. Nothing here writes the ledger.
"""
