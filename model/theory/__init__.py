"""The paper's theory as tables and maths.

Weitsman's Table 2 (threats to strategy) and Table 3 (strategy pair to
alliance type, commitment and cohesion) live in :mod:`model.theory.tables`;
threat levels, strategies and alliance probabilities in NumPy and PyTensor
beside them. This layer imports nothing else of the project.
"""
