"""Run folders: prepare the data (``prepared``), train a run (``train``), open one (``open``), evaluate
it (``evaluate``) and write its report (``report``). The command line and the package face use these."""
