"""The audio half of the worker: capture, gate, model, decision and evidence for scream reports."""
