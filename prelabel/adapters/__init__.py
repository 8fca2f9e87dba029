"""Adapters from inference libraries' result objects to :class:`prelabel.Annotations`.

Private: the public entry points are the classmethods ``Annotations.from_ultralytics``,
``Annotations.from_supervision`` and ``Annotations.from_masks``. Every adapter is duck-typed:
it reads the attributes the library documents and imports neither the library nor torch, so
prelabel installs without them and a tensor on the CPU works as well as a numpy array.
"""
