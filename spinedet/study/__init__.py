"""The paper's multicentre protocol, end to end: data, training, transfer, evaluation, report."""
