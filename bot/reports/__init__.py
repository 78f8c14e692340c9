"""The weekly completion summary: SQL metrics, access rules, renderings, chart, schedule.

``metrics.build_summary`` computes a :class:`~bot.reports.metrics.WeeklySummary` for one
viewer's scope; ``render`` turns it into a chat message, Markdown, CSV, JSON or HTML;
``chart`` draws the PNG; ``schedule`` sends the Monday summaries.
"""
