"""The worker's models: verified weight loading, the timm key mapping, the runtimes that run them, the classifiers."""
