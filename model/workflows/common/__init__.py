"""What every analysis shares: its input files and refusals, hooks, stage timing, the run folder.

- :mod:`~model.workflows.common.inputs`: a case's files, and the one way bad input is refused.
- :mod:`~model.workflows.common.hooks`: how a long run reports while it runs.
- :mod:`~model.workflows.common.timing`: where a command's time goes.
- :mod:`~model.workflows.common.run_folder`: the run folder's files, written, checked and read.
"""
