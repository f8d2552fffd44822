"""``quotedesk bench``: speed and scale measured, each figure beside a baseline of the same run.

:mod:`bot.bench.run` runs the stages, :mod:`bot.bench.fill` fills a store to size from a real
corpus, :mod:`bot.bench.changes` changes it while a replica answers, :mod:`bot.bench.procs`
starts and measures other processes, :mod:`bot.bench.load` fires requests at ``quotedesk
serve``, and :mod:`bot.bench.report` prints the table, the JSON and the chart.
"""
