"""Studies: grids x random draws x seeds of ordinary runs, trained on a local pool of processes or on Ray.

A sweep file (``spec``) expands into points (``points``), each an ordinary run folder under OUT/runs/,
validated with the config's own validator before the first run starts (``validate``). An engine
(``engines``: ``local``, ``ray``) trains each point (``worker``) and runs its evaluations
(``evaluations``); a record written last marks a point done (``folder``), so running the sweep
again skips it. The records become OUT/results.csv and .json (``results``) and the study's page
(``page``). ``sweep`` is the one entry point (``vaekit.sweep``, ``vaekit sweep``).

This package sits above ``runs`` (it trains and evaluates runs as the commands do) and below the
commands; nothing under ``runs`` imports it.
"""

from .sweep import StudyResult, summary_table, sweep

__all__ = ["StudyResult", "summary_table", "sweep"]
