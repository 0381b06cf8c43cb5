"""The networks and their training: architectures on ImageNet encoders, losses, metrics, the
training loop and the checkpoint folder it writes.  Imports only ``segdemo.data`` and the base
modules (``paths``, ``imaging``)."""
