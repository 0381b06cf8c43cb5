"""Who feeds whom in a functional Keras network: what the receptive-field walker, the windowed gradient
and the batch-norm fold each ask of its graph."""


def parents(layer):
    """The layers whose outputs ``layer`` takes, in its first call."""
    found = layer._inbound_nodes[0].inbound_layers
    return list(found) if isinstance(found, (list, tuple)) else [found]


def consumers(layers):
    """{layer: the layers among ``layers`` that take its output}, in the order of ``layers``."""
    taken = {}
    for layer in layers:
        if layer._inbound_nodes and type(layer).__name__ != "InputLayer":
            for parent in parents(layer):
                taken.setdefault(parent, []).append(layer)
    return taken
