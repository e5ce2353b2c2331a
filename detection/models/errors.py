"""What goes wrong with a model, in words an operator can act on."""


class ModelError(Exception):
    """A model could not be used; the message names the model and what to do about it."""


class ModelNotFoundError(ModelError):
    pass


class ModelLoadError(ModelError):
    pass
